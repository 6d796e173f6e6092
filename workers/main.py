"""The worker process: one Temporal worker per task queue, sharing one client.

The vCenter queue runs synchronous pyvmomi activities on a small thread pool so that
a campaign can never flood vCenter with concurrent sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from common.logging import get_logger
from domain.temporal_names import TaskQueue
from workers.registry import ASYNC_ACTIVITIES, THREADED_ACTIVITIES, WORKFLOWS

VCENTER_CONCURRENCY = 4
# Let a running firmware step finish (or reach a heartbeat) before the process exits.
GRACEFUL_SHUTDOWN = timedelta(seconds=30)

log = get_logger(__name__)


def build_workers(client: Client, executor: ThreadPoolExecutor) -> list[Worker]:
    drain = {"graceful_shutdown_timeout": GRACEFUL_SHUTDOWN}
    workers = [Worker(client, task_queue=TaskQueue.CAMPAIGNS, workflows=list(WORKFLOWS), **drain)]
    workers += [
        Worker(client, task_queue=queue, activities=list(activities), **drain)
        for queue, activities in ASYNC_ACTIVITIES.items()
    ]
    workers += [
        Worker(
            client,
            task_queue=queue,
            activities=list(activities),
            activity_executor=executor,
            max_concurrent_activities=VCENTER_CONCURRENCY,
            **drain,
        )
        for queue, activities in THREADED_ACTIVITIES.items()
    ]
    return workers


@asynccontextmanager
async def running_workers(client: Client) -> AsyncIterator[None]:
    """Every task queue's worker polls inside this block; leaving it drains and shuts down."""
    with ThreadPoolExecutor(max_workers=VCENTER_CONCURRENCY) as executor:
        async with AsyncExitStack() as stack:
            for worker in build_workers(client, executor):
                await stack.enter_async_context(worker)
            yield


async def run_workers(client: Client, stop: asyncio.Event) -> None:
    """Poll every task queue until ``stop`` is set."""
    async with running_workers(client):
        log.info("worker started", task_queues=[q.value for q in TaskQueue])
        await stop.wait()
        log.info("worker stopping")
