"""A Temporal dev server the test owns: persisted to a file, so it can be restarted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.client import Client

from cli.dev import temporal_command
from common.settings import Settings
from common.temporal import connect, temporal_binary
from tests.services.ports import free_port

READY_TIMEOUT_S = 60.0


class TemporalDevServer:
    def __init__(self, data_dir: Path, extra_args: list[str] | None = None) -> None:
        self.extra_args = extra_args or []
        self.settings = Settings(
            data_dir=data_dir,
            temporal_address=f"127.0.0.1:{free_port()}",
            temporal_ui_port=free_port(),
        )
        self.log = data_dir / "temporal.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return self.settings.temporal_address

    def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                [*temporal_command(temporal_binary(), self.settings), *self.extra_args],
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._answers_now():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Temporal dev server did not start; see {self.log}")
            time.sleep(0.2)

    def _answers_now(self) -> bool:
        """Probe on a thread of its own: callers may be inside an event loop already."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._answers()).result()

    async def _answers(self) -> bool:
        try:
            client = await asyncio.wait_for(connect(self.settings), timeout=2)
            await client.service_client.check_health()
        except Exception:
            return False
        return True

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    async def client(self) -> Client:
        return await connect(self.settings)
