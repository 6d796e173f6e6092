"""The worker process: one Temporal worker per task queue, sharing one client.

The vCenter queue runs synchronous pyvmomi activities on a small thread pool so that
a campaign can never flood vCenter with concurrent sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.resources import Resources
from common.logging import get_logger
from domain.temporal_names import TaskQueue
from workers.audit_forwarder import AuditForwarder, target_of
from workers.registry import QueueSpec, queue_specs
from workers.schedules import ensure_schedules

# Let a running firmware step finish (or reach a heartbeat) before the process exits.
GRACEFUL_SHUTDOWN = timedelta(seconds=30)

log = get_logger(__name__)


def build_worker(client: Client, spec: QueueSpec, stack: ExitStack) -> Worker:
    threaded: dict[str, Any] = {}
    if spec.threaded and spec.activities:
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=spec.concurrency))
        threaded = {"activity_executor": executor}
    return Worker(
        client,
        task_queue=spec.queue,
        workflows=list(spec.workflows),
        activities=list(spec.activities),
        max_concurrent_activities=spec.concurrency,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        **threaded,
    )


@asynccontextmanager
async def running_workers(client: Client, resources: Resources) -> AsyncIterator[None]:
    """Every task queue's worker polls inside this block; leaving it drains and shuts down."""
    with ExitStack() as pools:
        pools.callback(resources.vcenter_sessions.close)  # after the last activity ended
        async with AsyncExitStack() as stack:
            for spec in queue_specs(resources, client):
                await stack.enter_async_context(build_worker(client, spec, pools))
            yield


async def run_workers(client: Client, resources: Resources, stop: asyncio.Event) -> None:
    """Poll every task queue until ``stop`` is set; the schedules exist once it polls."""
    async with running_workers(client, resources):
        await ensure_schedules(client, resources.settings)
        log.info("worker started", task_queues=[q.value for q in TaskQueue])
        target = target_of(resources.settings)
        if target is None:
            await stop.wait()
        else:
            await AuditForwarder(resources.engine, resources.settings, target).run(stop)
        log.info("worker stopping")
