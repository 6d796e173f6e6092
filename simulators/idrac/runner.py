"""Run the simulator on its own event loop in a background thread.

For tests and tools whose own code is synchronous or runs another event loop: the
simulator keeps serving while the caller blocks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from simulators.idrac.simulator import IdracSimulator

T = TypeVar("T")


class SimulatorThread:
    def __init__(self, simulator: IdracSimulator) -> None:
        self.simulator = simulator
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="idrac-sim"
        )

    def start(self) -> IdracSimulator:
        self._thread.start()
        self.call(self.simulator.start())
        return self.simulator

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the simulator's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=120)

    def stop(self) -> None:
        self.call(self.simulator.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> IdracSimulator:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
