"""VcenterSyncWorkflow: sync one vCenter (a run the API recorded) or, started by the
schedule, every registered vCenter in turn. One vCenter failing fails its own run only."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.names import VcenterSync
    from domain.temporal_names import TaskQueue
    from domain.vcenter_sync import WORKFLOW_NAME, SyncOutcome, SyncReport, SyncStart

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)
STORE_TIMEOUT = timedelta(minutes=5)
SYNC_TIMEOUT = timedelta(minutes=30)  # a whole vCenter's inventory, read once
SYNC_HEARTBEAT = timedelta(minutes=1)


@workflow.defn(name=WORKFLOW_NAME)
class VcenterSyncWorkflow:
    @workflow.run
    async def run(self, start: SyncStart) -> list[SyncOutcome]:
        if start.run_id is not None:
            run_ids = [start.run_id]
        else:
            run_ids = await workflow.execute_activity(
                VcenterSync.START_SCHEDULED,
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
                result_type=list[int],
            )
        return [await self._sync(run_id) for run_id in run_ids]

    async def _sync(self, run_id: int) -> SyncOutcome:
        try:
            await workflow.execute_activity(
                VcenterSync.SYNC,
                run_id,
                task_queue=TaskQueue.VCENTER,
                start_to_close_timeout=SYNC_TIMEOUT,
                heartbeat_timeout=SYNC_HEARTBEAT,
                retry_policy=RETRY,
                result_type=SyncReport,
            )
        except ActivityError as exc:
            reason = str(exc.cause or exc)
            await workflow.execute_activity(
                VcenterSync.FAIL,
                args=[run_id, reason],
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
            )
            return SyncOutcome(run_id=run_id, status="failed", error=reason)
        return SyncOutcome(run_id=run_id, status="completed")
