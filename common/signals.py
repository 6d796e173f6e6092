"""Turn SIGINT/SIGTERM into an event, for foreground commands that supervise children.

Handlers (not a blocked signal mask) so that child processes inherit default signal
handling and stop when the supervisor forwards SIGTERM to them.
"""

from __future__ import annotations

import signal
import threading


def stop_event() -> threading.Event:
    event = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        event.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return event
