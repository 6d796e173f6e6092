"""What the API process holds for its lifetime: one engine and one Temporal client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Engine
from temporalio.client import Client

from common.settings import Settings
from common.temporal import connect

TEMPORAL_CONNECT_TIMEOUT_S = 5.0


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    temporal: Client | None = None
    _connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def temporal_client(self) -> Client:
        """The shared client, connecting on first use so the API starts while Temporal is down."""
        async with self._connect_lock:
            if self.temporal is None:
                self.temporal = await asyncio.wait_for(
                    connect(self.settings), timeout=TEMPORAL_CONNECT_TIMEOUT_S
                )
            return self.temporal
