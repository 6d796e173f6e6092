"""Heartbeats while a long call blocks, so Temporal notices a dead worker within a minute
instead of waiting for the step's whole timeout, and a cancel reaches the activity."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from temporalio import activity

DEFAULT_INTERVAL_S = 10.0


def _interval() -> float:
    """A third of the step's heartbeat timeout: two beats may be lost before it expires."""
    timeout = activity.info().heartbeat_timeout
    return timeout.total_seconds() / 3 if timeout else DEFAULT_INTERVAL_S


@contextlib.contextmanager
def heartbeating_thread(details: Callable[[], tuple[Any, ...]] = tuple) -> Iterator[None]:
    """For sync (thread-pool) activities around a blocking pyvmomi call. Each beat
    carries ``details()``: a beat without them would erase the progress recorded."""
    interval_s = _interval()
    stop = threading.Event()
    context = contextvars.copy_context()  # activity.heartbeat needs the activity's context

    def beat() -> None:
        while not stop.wait(interval_s):
            context.run(activity.heartbeat, *details())

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.asynccontextmanager
async def heartbeating_task() -> AsyncIterator[None]:
    """For async activities around an await that may take minutes (a reboot, a download)."""
    interval_s = _interval()

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
