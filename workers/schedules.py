"""The Temporal Schedules that keep the inventory current, created (or brought in line with
the settings) each time a worker starts: many workers starting at once converge on one
schedule per id, a changed interval takes effect at the next start, and an interval of 0
removes the schedule."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from common.settings import Settings
from domain import inventory, vcenter_sync
from domain.temporal_names import TaskQueue


def _every(minutes: int, workflow: str, argument: object, schedule_id: str) -> Schedule | None:
    """Start WORKFLOW every MINUTES (0: never); a run still going when the next is due is
    not doubled."""
    if minutes == 0:
        return None
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, argument, id=schedule_id, task_queue=TaskQueue.CAMPAIGNS
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=minutes))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def schedules(settings: Settings) -> dict[str, Schedule | None]:
    """Schedule id -> what it should be; None: it should not exist."""
    return {
        vcenter_sync.SCHEDULE_ID: _every(
            settings.vcenter_sync_interval_minutes,
            vcenter_sync.WORKFLOW_NAME,
            vcenter_sync.SyncStart(),
            vcenter_sync.SCHEDULE_ID,
        ),
        inventory.SCHEDULE_ID: _every(
            settings.inventory_sweep_interval_minutes,
            inventory.WORKFLOW_NAME,
            inventory.SweepStart(),
            inventory.SCHEDULE_ID,
        ),
    }


async def ensure_schedules(client: Client, settings: Settings) -> None:
    for schedule_id, schedule in schedules(settings).items():
        if schedule is None:
            await _remove(client, schedule_id)
            continue
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, wanted: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(schedule_id).update(replace)


async def _remove(client: Client, schedule_id: str) -> None:
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
