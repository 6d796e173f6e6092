"""Request-body size limits, enforced before anything parses or authenticates a request.

FastAPI reads and parses a JSON body before it resolves the bearer-token dependency, so
without a cap an anonymous caller could make the API hold any number of gigabytes (four
parallel 300 MB posts took it to 2.7 GB). This middleware answers 413 from the
``Content-Length`` header alone, and counts the bytes of bodies sent without one, refusing
as soon as the count passes the route's limit. Package and catalog uploads are streamed to
disk by their routes, which enforce their own (much larger) caps chunk by chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
DEFAULT_LIMIT = 64 * KIB
"""Every JSON body of the API fits in this, except the ones listed in ROUTE_LIMITS."""


@dataclass(frozen=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    max_bytes: int | None
    """None: the route streams its body and enforces a limit of its own."""


ROUTE_LIMITS = (
    # A campaign spec may list thousands of hosts; domain/campaign_spec.py bounds it further.
    RouteLimit("POST", re.compile(r"^/campaigns/?$"), 1024 * KIB),
    # A server's firmware inventory: up to 500 components.
    RouteLimit("POST", re.compile(r"^/servers/?$"), 256 * KIB),
    RouteLimit("PATCH", re.compile(r"^/servers/[^/]+/?$"), 256 * KIB),
    RouteLimit("PUT", re.compile(r"^/packages/[^/]+/file/?$"), None),
    # A catalog upload (tens of MB) is spooled to disk by its route, which caps it.
    RouteLimit("POST", re.compile(r"^/catalogs/?$"), None),
)


def limit_for(method: str, path: str) -> int | None:
    for route in ROUTE_LIMITS:
        if route.method == method and route.path.match(path):
            return route.max_bytes
    return DEFAULT_LIMIT


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes, the limit for this route"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            # Answered without reading a byte of the body; the connection is closed after
            # the response, so the unread body is never buffered.
            status = 413 if declared.isdigit() else 400
            detail = _too_large(limit) if status == 413 else "invalid Content-Length"
            response = JSONResponse({"detail": detail}, status, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions from body reading; it becomes the 413.
                    raise HTTPException(413, detail=_too_large(limit))
            return message

        await self.app(scope, counting_receive, send)
