"""The route table every resource module registers on, and the answers they share."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.resources import collection

Route = Callable[[SimHost, Request, re.Match[str]], Awaitable[Response]]


def error(status: int, message_id: str, message: str) -> Response:
    """Dell's error envelope (reference §10)."""
    return Response.json(
        status,
        {
            "error": {
                "code": "Base.1.12.GeneralError",
                "message": "A general error has occurred. See ExtendedInfo for more information",
                "@Message.ExtendedInfo": [
                    {
                        "Message": message,
                        "MessageArgs": [],
                        "MessageId": message_id,
                        "Resolution": "See the message.",
                        "Severity": "Critical",
                    }
                ],
            }
        },
    )


def not_found(path: str) -> Response:
    return error(
        404, "Base.1.12.ResourceMissingAtURI", f"The resource at the URI {path} was not found."
    )


def body(request: Request) -> dict[str, Any]:
    try:
        document = request.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def expanded(host: SimHost, request: Request) -> bool:
    """iDRAC honours $expand; the generic BMC, like many, ignores it (clients must cope)."""
    return not host.generic and request.query.get("$expand", "").startswith(("*", "."))


def members(
    host: SimHost, request: Request, path: str, kind: str, documents: list[dict[str, Any]]
) -> Response:
    """A collection of KIND; with $expand the members' bodies are inlined."""
    document = collection(path, kind, [d["@odata.id"] for d in documents])
    if expanded(host, request):
        document["Members"] = documents
    return Response.json(200, document)


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Route, bool]] = []

    def add(
        self, method: str, pattern: str, *, dell_only: bool = False
    ) -> Callable[[Route], Route]:
        def register(route: Route) -> Route:
            self._routes.append((method, re.compile(f"^{pattern}$"), route, dell_only))
            return route

        return register

    async def dispatch(self, host: SimHost, request: Request) -> Response:
        allowed = False
        for method, pattern, route, dell_only in self._routes:
            match = pattern.match(request.path)
            if match is None or (dell_only and host.generic):
                continue
            if method == request.method:
                return await route(host, request, match)
            allowed = True
        if allowed:
            return error(405, "Base.1.12.ActionNotSupported", "The method is not allowed.")
        return not_found(request.path)


router = Router()
