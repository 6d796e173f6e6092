"""Logged-in Redfish clients kept for a short while between calls to the same iDRAC.

A host's runbook makes six or seven Redfish calls a few seconds apart. A fresh client
each time pays a TLS handshake, the service root, a session login, the System and
Manager discovery and a logout: five requests, each slow on a real iDRAC. Kept
clients skip all of that; an iDRAC reset that kills the session is already handled
by the client (a 401 logs in again).

iDRACs allow only a few sessions, so at most ``max_idle_per_key`` idle clients are kept
per iDRAC and login, and only for ``max_idle_s``; a client that saw any error is
logged out instead. One event loop only (the worker's): no locking.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager

from integrations.redfish.client import RedfishClient

DEFAULT_MAX_IDLE_S = 60.0
DEFAULT_MAX_IDLE_PER_KEY = 2


class RedfishClientPool:
    def __init__(
        self,
        max_idle_s: float = DEFAULT_MAX_IDLE_S,
        max_idle_per_key: int = DEFAULT_MAX_IDLE_PER_KEY,
    ) -> None:
        self.max_idle_s = max_idle_s
        self.max_idle_per_key = max_idle_per_key
        self.created = 0
        self._idle: dict[Hashable, list[tuple[float, RedfishClient]]] = {}

    @asynccontextmanager
    async def client(
        self, key: Hashable, make: Callable[[], RedfishClient]
    ) -> AsyncIterator[RedfishClient]:
        """A kept client for ``key`` (the iDRAC, login and options), or ``make()``'s."""
        await self._close_expired()
        idle = self._idle.get(key, [])
        if idle:
            _, client = idle.pop()
        else:
            client = make()
            self.created += 1
        try:
            yield client
        except BaseException:
            await client.aclose()
            raise
        idle = self._idle.setdefault(key, [])
        if len(idle) < self.max_idle_per_key:
            idle.append((time.monotonic(), client))
        else:
            await client.aclose()

    async def aclose(self) -> None:
        """Log every kept client out (the worker is stopping)."""
        idle = [client for entries in self._idle.values() for _, client in entries]
        self._idle.clear()
        for client in idle:
            await client.aclose()

    async def _close_expired(self) -> None:
        oldest = time.monotonic() - self.max_idle_s
        expired = []
        for key, entries in list(self._idle.items()):
            expired += [client for returned, client in entries if returned < oldest]
            kept = [(returned, client) for returned, client in entries if returned >= oldest]
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        for client in expired:
            await client.aclose()
