"""Logged-in vCenter sessions kept between calls, one borrower at a time.

A login costs a TLS handshake and five SOAP round trips; a campaign makes several
vCenter calls per host, so the worker keeps idle sessions instead of logging in and
out each time. A session is keyed by its full settings (URL, user, password, TLS), so
a rotated password gets a new session on the next call. A session that saw any error
is logged out rather than reused, and one idle for longer than ``max_idle_s`` too
(vCenter drops idle sessions after 30 minutes; the client logs in again if it did
anyway).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from integrations.vcenter.client import VCenterClient, VCenterSettings

DEFAULT_MAX_IDLE_S = 300.0
DEFAULT_MAX_IDLE_SESSIONS = 8


class SessionPool:
    def __init__(
        self,
        max_idle_s: float = DEFAULT_MAX_IDLE_S,
        max_idle_sessions: int = DEFAULT_MAX_IDLE_SESSIONS,
    ) -> None:
        self.max_idle_s = max_idle_s
        self.max_idle_sessions = max_idle_sessions
        self.logins = 0
        self._idle: dict[VCenterSettings, list[tuple[float, VCenterClient]]] = defaultdict(list)
        self._lock = threading.Lock()

    @contextmanager
    def session(self, settings: VCenterSettings) -> Iterator[VCenterClient]:
        client = self._borrow(settings) or self._login(settings)
        try:
            yield client
        except BaseException:
            client.close()
            raise
        self._give_back(settings, client)

    def close(self) -> None:
        """Log every idle session out (the worker is stopping)."""
        with self._lock:
            idle = [client for entries in self._idle.values() for _, client in entries]
            self._idle.clear()
        for client in idle:
            client.close()

    def _borrow(self, settings: VCenterSettings) -> VCenterClient | None:
        now = time.monotonic()
        stale: list[VCenterClient] = []
        found = None
        with self._lock:
            entries = self._idle[settings]
            while entries and found is None:
                returned_at, client = entries.pop()
                if now - returned_at <= self.max_idle_s:
                    found = client
                else:
                    stale.append(client)
        for client in stale:
            client.close()
        return found

    def _login(self, settings: VCenterSettings) -> VCenterClient:
        client = VCenterClient(settings)
        client.connect()
        with self._lock:
            self.logins += 1
        return client

    def _give_back(self, settings: VCenterSettings, client: VCenterClient) -> None:
        with self._lock:
            entries = self._idle[settings]
            if len(entries) < self.max_idle_sessions:
                entries.append((time.monotonic(), client))
                return
        client.close()
