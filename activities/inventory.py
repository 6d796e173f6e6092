"""Inventory sweep activities: the sweep records on ``campaigns``, a batch of iDRAC reads
on ``redfish``. Logins are resolved and decrypted here per batch; the workflow carries
server ids only."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.names import Inventory
from activities.resources import Resources
from domain.discovery import DEFAULT_CONNECT_TIMEOUT_S
from domain.inventory import BATCH_SIZE, BatchResult, SweepBatch, SweepStart, SweepSummary
from integrations.discovery.scanner import ScanOptions
from integrations.discovery.sweep import SweepTarget, sweep
from integrations.redfish.models import Credentials
from store.inventory import (
    create_sweep,
    fail_sweep,
    finish_sweep,
    managed_server_ids,
    record_readings,
    sweep_logins,
)


class InventoryActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Inventory.BEGIN)
    def begin(self, start: SweepStart) -> tuple[int, list[list[int]]]:
        """(sweep id, server ids in batches): the schedule's sweep is recorded here."""
        engine = self.resources.engine
        sweep_id = start.sweep_id or create_sweep(engine, "schedule", "schedule")
        ids = managed_server_ids(engine, sweep_id)
        return sweep_id, [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]

    @activity.defn(name=Inventory.READ_BATCH)
    async def read_batch(self, batch: SweepBatch) -> BatchResult:
        settings = self.resources.settings
        logins = await asyncio.to_thread(
            sweep_logins, self.resources.engine, self.resources.secrets, batch.server_ids
        )
        targets = [
            SweepTarget(
                server.id or 0,
                server.idrac_address,
                Credentials(username=login.username, password=login.password) if login else None,
                server.service_tag,
            )
            for server, login in logins
        ]
        options = ScanOptions(
            port=settings.idrac_port,
            concurrency=settings.inventory_sweep_concurrency,
            connect_timeout_s=DEFAULT_CONNECT_TIMEOUT_S,
            address_timeout_s=settings.inventory_host_timeout_s,
            trust=self.resources.redfish_options,
        )
        readings = await sweep(targets, options, activity.heartbeat)
        await asyncio.to_thread(record_readings, self.resources.engine, batch.sweep_id, readings)
        unreachable = sum(1 for r in readings if not r.reachable)
        return BatchResult(read=len(readings) - unreachable, unreachable=unreachable)

    @activity.defn(name=Inventory.FINISH)
    def finish(self, sweep_id: int) -> SweepSummary:
        return finish_sweep(self.resources.engine, sweep_id)

    @activity.defn(name=Inventory.FAIL)
    def fail(self, sweep_id: int, reason: str) -> None:
        fail_sweep(self.resources.engine, sweep_id, reason)

    def storing(self) -> list[object]:
        """Sync store activities for the ``campaigns`` queue."""
        return [self.begin, self.finish, self.fail]

    def reading(self) -> list[object]:
        """Async iDRAC reads for the ``redfish`` queue."""
        return [self.read_batch]
