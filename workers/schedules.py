"""The Temporal Schedules that keep the inventory current, created (or brought in line with
the settings) each time a worker starts: many workers starting at once converge on one
schedule per id, and a changed interval takes effect at the next start."""

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

from common.settings import Settings
from domain import inventory, vcenter_sync
from domain.temporal_names import TaskQueue


def _every(minutes: int, workflow: str, argument: object, schedule_id: str) -> Schedule:
    """Start WORKFLOW every MINUTES; a run still going when the next is due is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, argument, id=schedule_id, task_queue=TaskQueue.CAMPAIGNS
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=minutes))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def schedules(settings: Settings) -> dict[str, Schedule]:
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
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, wanted: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(schedule_id).update(replace)
