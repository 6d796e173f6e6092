"""Jinja2 rendering with what every page needs: who is logged in, their CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.security import Principal
from api.state import AppState
from console.session import csrf_token
from domain.roles import Role

# Only the product's own script and stylesheet run; no page may be framed (clickjacking).
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(
    request: Request,
    state: AppState,
    name: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page; autoescaped, so nothing stored (names, reasons) can inject markup."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "csrf": csrf_token(request, state) if principal else "",
            "may_operate": principal is not None and principal.role.includes(Role.OPERATOR),
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": POLICY},
    )


def error_page(
    request: Request, state: AppState, principal: Principal | None, status_code: int, detail: str
) -> HTMLResponse:
    return page(
        request, state, "error.html", principal, status_code, status=status_code, detail=detail
    )
