"""Notifications from workflow code: each event goes to the ``notify_publish`` activity in
the background (the campaign never waits for a receiver), one after the other (receivers
hear a run's events in the order it emitted them), and all are awaited before the workflow
returns so that the last word (completed, failed, aborted) is delivered too.

Everything is behind ``workflow.patched(NOTIFICATIONS)``: histories recorded before
notifications existed replay without the new activities.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.names import Notify
    from domain.notifications import EventKind, NotificationEvent, event_key
    from domain.temporal_names import TaskQueue

NOTIFICATIONS = "notifications"
# Sending retries inside the activity (with backoff, settings notify_*); these retries
# cover a worker that died or a store that was away.
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=20,
)
PUBLISH_TIMEOUT = timedelta(hours=2)
PUBLISH_HEARTBEAT = timedelta(minutes=1)


class Notifier:
    """One per workflow run: emits events with keys unique within the run's workflow id."""

    def __init__(self, campaign_id: int | None) -> None:
        self.campaign_id = campaign_id
        self.sent: list[asyncio.Task[None]] = []
        self.count = 0
        self.decided: bool | None = None

    def decide_now(self) -> None:
        """Take the patch decision at once (a run's start) rather than at the first event:
        a patch first asked deep in a history is matched against the workflow task it was
        recorded in, and a replay that reaches that point a task earlier or later fails."""
        self.decided = workflow.patched(NOTIFICATIONS)

    def enabled(self) -> bool:
        return self.decided if self.decided is not None else workflow.patched(NOTIFICATIONS)

    def emit(
        self, kind: EventKind, subject: str, detail: str = "", discriminator: str | None = None
    ) -> None:
        """Publish in the background. ``discriminator`` tells apart events of one kind in a
        run (a host); without it, events are numbered in the order the workflow emits them."""
        if not self.enabled():
            return
        if discriminator is None:
            self.count += 1
            discriminator = str(self.count)
        event = NotificationEvent(
            key=event_key(workflow.info().workflow_id, kind, discriminator),
            kind=kind,
            campaign_id=self.campaign_id,
            subject=subject[:255],
            detail=detail[:2000],
            occurred_at=workflow.now(),
        )
        previous = self.sent[-1] if self.sent else None
        self.sent.append(asyncio.create_task(publish(event, after=previous)))

    async def drain(self) -> None:
        """Wait until every emitted event is recorded (and its sends settled)."""
        while pending := [task for task in self.sent if not task.done()]:
            await asyncio.gather(*pending)  # a signal may emit more meanwhile


async def publish(event: NotificationEvent, after: asyncio.Task[None] | None = None) -> None:
    """Record and deliver EVENT (after AFTER, if given); a failure is logged, never raised."""
    if after is not None:
        await after
    try:
        await workflow.execute_activity(
            Notify.PUBLISH,
            event,
            task_queue=TaskQueue.NOTIFY,
            start_to_close_timeout=PUBLISH_TIMEOUT,
            heartbeat_timeout=PUBLISH_HEARTBEAT,
            retry_policy=PUBLISH_RETRY,
        )
    except ActivityError as exc:  # a notification never fails a campaign
        workflow.logger.warning("notification %s not recorded: %s", event.key, exc.cause or exc)
