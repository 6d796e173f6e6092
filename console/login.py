"""Logging in and out: the API's own login (directory or break-glass, rate limit, audit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import StateDep
from api.routes.auth import LoginRequest, login
from console.forms import local_path, read_form
from console.render import error_page, page
from console.session import check_csrf, end_session, principal_of, start_session

router = APIRouter(prefix="/ui", include_in_schema=False)
LOGIN_PATH = "/ui/login"
Next = Annotated[str | None, Query(max_length=512, alias="next")]


@router.get("/login", response_class=HTMLResponse, name="console_login_form")
async def login_form(request: Request, state: StateDep, next_path: Next = None) -> Response:
    if principal_of(request, state) is not None:
        return RedirectResponse(local_path(next_path), status.HTTP_303_SEE_OTHER)
    return page(request, state, "login.html", None, next=local_path(next_path), error=None)


@router.post("/login", response_class=HTMLResponse, name="console_login")
async def login_submit(request: Request, state: StateDep) -> Response:
    """The API's login route does the work (and audits it); the token goes into the cookie."""
    form = await read_form(request)
    target = local_path(form.get("next"))
    try:
        body = LoginRequest.model_validate(
            {"username": form.get("username", ""), "password": form.get("password", "")}
        )
        answer = await login(body, request, state)
    except ValidationError:
        return _refused(request, state, target, 422, "Enter a user name and a password.")
    except HTTPException as exc:
        return _refused(request, state, target, exc.status_code, str(exc.detail))
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    start_session(request, response, answer.access_token, answer.expires_at)
    return response


def _refused(
    request: Request, state: StateDep, target: str, code: int, detail: str
) -> HTMLResponse:
    messages = {
        401: "Wrong user name or password, or no group of yours grants a role.",
        429: "Too many failed logins: try again later.",
        503: "The directory is unreachable: try again, or use the break-glass account.",
    }
    error = messages.get(code, detail)
    return page(request, state, "login.html", None, code, next=target, error=error)


@router.post("/logout", name="console_logout")
async def logout(request: Request, state: StateDep) -> Response:
    principal = principal_of(request, state)
    if principal is None:
        return RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    try:
        check_csrf(request, state, (await read_form(request)).get("csrf"))
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    response = RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    end_session(response)
    return response
