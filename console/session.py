"""The console's session: the API's own login token, kept in an HttpOnly cookie.

A cookie is sent by the browser on its own, so every state-changing form also carries a
CSRF token derived from the session (an attacker's page can neither read nor forge it).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from fastapi import HTTPException, Request, Response, status

from api.security import Principal, principal_from_login_token, signing_key
from api.state import AppState

COOKIE = "idrac_orch_console"
COOKIE_PATH = "/ui"


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def principal_of(request: Request, state: AppState) -> Principal | None:
    """Who the session cookie names (None: no cookie, expired or forged); the audit
    middleware reads it from the request state, as it does for the API."""
    token = session_token(request)
    principal = principal_from_login_token(token, state.settings) if token else None
    if principal is not None:
        request.state.principal = principal
    return principal


def csrf_token(request: Request, state: AppState) -> str:
    token = session_token(request) or ""
    key = signing_key(state.settings)
    return hmac.new(key, b"console-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, state: AppState, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(request, state)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="the form is stale or did not come from this console; reload and try again",
        )


def start_session(request: Request, response: Response, token: str, expires_at: datetime) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, int((expires_at - datetime.now(UTC)).total_seconds())),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
