"""Publishing through real Temporal: a worker with the real notification activities and a
one-step workflow that hands an event to them, as the campaign workflows do."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.names import Notify
from activities.notify import NotifyActivities, PublishResult
from activities.resources import Resources
from domain.notifications import EventKind, NotificationEvent
from workflows.notify import PUBLISH_RETRY
from workflows.notify_publish import NotificationPublishWorkflow


@workflow.defn
class PublishWorkflow:
    @workflow.run
    async def run(self, event: NotificationEvent) -> PublishResult:
        return await workflow.execute_activity(
            Notify.PUBLISH,
            event,
            result_type=PublishResult,
            task_queue=workflow.info().task_queue,
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=PUBLISH_RETRY,
        )


@dataclass(frozen=True)
class Publisher:
    client: Client
    queue: str

    async def publish(self, event: NotificationEvent) -> PublishResult:
        return await self.client.execute_workflow(
            PublishWorkflow.run,
            event,
            id=f"publish-{uuid.uuid4().hex}",
            task_queue=self.queue,
            result_type=PublishResult,
        )


@asynccontextmanager
async def publisher(
    client: Client, resources: Resources, queue: str | None = None
) -> AsyncIterator[Publisher]:
    """A worker with the real activities (and the resend workflow) on QUEUE (default: one
    of its own)."""
    queue = queue or f"notify-test-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[PublishWorkflow, NotificationPublishWorkflow],
            activities=NotifyActivities(resources).all(),
            activity_executor=executor,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            yield Publisher(client, queue)


def event(
    kind: EventKind = EventKind.HOST_HELD, campaign_id: int | None = None, key: str | None = None
) -> NotificationEvent:
    return NotificationEvent(
        key=key or f"test/{uuid.uuid4().hex}",
        kind=kind,
        campaign_id=campaign_id,
        subject="host ABC1234 (campaign 7)",
        detail="held at verify: BIOS did not change",
        occurred_at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
    )
