"""What every console action shares, whatever it acts on: a session, the CSRF token, the
right (the API's own check: operator, or approver), then the API's own route function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from api.security import Principal, check_role
from api.state import AppState
from console.forms import read_form
from console.render import error_page
from console.session import check_csrf, principal_of
from domain.roles import Role

Action = Callable[[Principal, dict[str, str]], Awaitable[object]]
"""Runs the action; returns where to go next (a console path) or anything else to go to
the default."""


def operator(principal: Principal) -> object:
    return check_role(principal, Role.OPERATOR)


async def operator_action(
    request: Request,
    state: AppState,
    done: str,
    action: Action,
    check: Callable[[Principal], object] = operator,
) -> Response:
    """Refusals become a page with the API's status code and words; success goes to
    ``done`` (or to the path the action returned). The audit middleware records each, as
    for the API."""
    principal = principal_of(request, state)
    if principal is None:
        return error_page(request, state, None, 401, "log in to the console first")
    try:
        form = await read_form(request)
        check_csrf(request, state, form.get("csrf"))
        check(principal)
        went = await action(principal, form)
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    target = went if isinstance(went, str) and went.startswith("/ui/") else done
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
