"""Heartbeats while a long call blocks, so Temporal notices a dead worker within a minute
instead of waiting for the step's whole timeout, and a cancel reaches the activity."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator

from temporalio import activity

INTERVAL_S = 10.0


@contextlib.contextmanager
def heartbeating_thread(interval_s: float = INTERVAL_S) -> Iterator[None]:
    """For sync (thread-pool) activities around a blocking pyvmomi call."""
    stop = threading.Event()
    context = contextvars.copy_context()  # activity.heartbeat needs the activity's context

    def beat() -> None:
        while not stop.wait(interval_s):
            context.run(activity.heartbeat)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.asynccontextmanager
async def heartbeating_task(interval_s: float = INTERVAL_S) -> AsyncIterator[None]:
    """For async activities around an await that may take minutes (a reboot, a download)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval_s)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
