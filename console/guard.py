"""Who may see a console page: a session, else the login page (pages) or a 401 (data)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, status
from fastapi.responses import RedirectResponse

from api.security import Principal
from api.state import AppState
from console.session import principal_of


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={quote(target)}", status.HTTP_303_SEE_OTHER)


def viewer(request: Request, state: AppState) -> Principal | RedirectResponse:
    """Every role may read every page (as every role may read the API)."""
    principal = principal_of(request, state)
    return principal if principal is not None else login_redirect(request)
