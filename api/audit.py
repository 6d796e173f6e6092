"""ASGI middleware that records every mutating request in the audit log.

It runs outside routing, so refusals (401, 403, 422) are recorded as well as successes.
Request bodies are never recorded: they may carry secrets. Logins are recorded by the
login route itself, which knows the attempted user name and the reason for a refusal.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logging import get_logger
from store.audit import AuditRecord, append

log = get_logger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SELF_AUDITED_PATHS = frozenset({"/auth/login", "/ui/login"})  # both call the login route


def outcome_for(status_code: int) -> str:
    if status_code < 400:
        return "success"
    if status_code in (401, 403, 429):
        return "denied"
    if status_code < 500:
        return "rejected"
    return "error"


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def principal_of(scope: Scope) -> Any:
    return scope.get("state", {}).get("principal")


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"] in SELF_AUDITED_PATHS
        ):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        recorded = False

        async def record_then_send(message: Message) -> None:
            # Written before the response starts: a client that saw the answer can already
            # find the entry, and a crash cannot lose the entry of an answered request.
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await self._record(scope, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_then_send)
        finally:
            if not recorded:
                await self._record(scope, 500)

    async def _record(self, scope: Scope, status_code: int) -> None:
        principal = principal_of(scope)
        route = scope.get("route")
        record = AuditRecord(
            actor=principal.name if principal else "anonymous",
            role=principal.role.value if principal else None,
            action=getattr(route, "name", None) or f"{scope['method']} (no route)",
            target=f"{scope['method']} {scope['path']}",
            outcome=outcome_for(status_code),
            source=client_address(scope),
            detail=f"HTTP {status_code}",
        )
        state = scope["app"].state.orch
        try:
            await asyncio.to_thread(append, state.engine, record, keys=state.audit_keys)
        except Exception:
            # The action already happened; losing its audit entry must be loud.
            log.exception("audit entry could not be written", action=record.action)
            raise
