"""Failed-login throttling per (user name, source address), in process memory.

Each API replica counts on its own, so N replicas allow N times the budget; still enough to
turn online guessing from thousands of tries a minute into a handful.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_TRACKED = 100_000


class LoginLimiter:
    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max, self._window, self._clock = max_failures, window_s, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    @staticmethod
    def key(username: str, source: str) -> tuple[str, str]:
        return (username.strip().lower(), source)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        stamps = self._failures.get(key, deque())
        horizon = self._clock() - self._window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def retry_after(self, username: str, source: str) -> float | None:
        """Seconds until the next attempt is allowed, or None if allowed now."""
        stamps = self._recent(self.key(username, source))
        if len(stamps) < self._max:
            return None
        return max(stamps[0] + self._window - self._clock(), 0.001)

    def failed(self, username: str, source: str) -> None:
        key = self.key(username, source)
        stamps = self._recent(key)
        stamps.append(self._clock())
        if key not in self._failures and len(self._failures) >= MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))
        self._failures[key] = stamps

    def succeeded(self, username: str, source: str) -> None:
        self._failures.pop(self.key(username, source), None)
