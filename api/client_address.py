"""Who is really calling: the peer address, or X-Forwarded-For from a configured proxy only.

The login throttle and the audit log key on the caller's address. Trusting
``X-Forwarded-For`` from any peer (uvicorn's default trusts loopback) let a caller name
itself: a locked-out account logged in by sending a fresh address each time, and the audit
recorded forged sources. So the server's own proxy handling is off (``SERVER_OPTIONS``) and
this middleware believes the header only when the peer is one of
``IDRAC_ORCH_TRUSTED_PROXIES``; then the caller is the right-most address in the header that
is not itself a trusted proxy (entries left of it were written by the caller).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False}
"""uvicorn options every API server runs with (service command and tests alike)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def forwarded_client(peer: str, header: str | None, proxies: tuple[Network, ...]) -> str:
    """The caller's address as the trusted proxy chain reports it."""
    if not header or not _trusted(peer, proxies):
        return peer
    for hop in reversed([part.strip() for part in header.split(",")]):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy chain: keep what we know
    return peer


class ForwardedForMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str]) -> None:
        self.app, self.proxies = app, parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and self.proxies:
            header = dict(scope["headers"]).get(b"x-forwarded-for")
            text = header.decode("latin-1") if header is not None else None
            scope = {**scope, "client": (forwarded_client(client[0], text, self.proxies), 0)}
        await self.app(scope, receive, send)
