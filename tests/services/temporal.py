"""A Temporal dev server the test owns: persisted to a file, so it can be restarted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
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


async def decoded_history(client: Client, workflow_id: str) -> str:
    """A workflow's history as text with every payload decoded by the client's codec: what
    the workflow carried, which the raw (encrypted) history no longer shows."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    codec = client.data_converter.payload_codec
    payloads = [p for event in history.events for p in _payloads(event)]
    plain = await codec.decode(payloads) if codec else payloads
    return "\n".join([*(str(event) for event in history.events), *(str(p) for p in plain)])


def _payloads(message: Message) -> Iterator[Payload]:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            value = value.values()
        for item in value if field.is_repeated else [value]:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from _payloads(item)
