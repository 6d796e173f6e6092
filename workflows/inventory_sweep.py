"""InventorySweepWorkflow: read every managed iDRAC, batch by batch, and record it.

An iDRAC that does not answer is a reading of the sweep, never its failure: only the
store or the worker failing (after retries) fails the sweep, and then it says why.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.names import Inventory
    from domain.inventory import (
        BATCH_SIZE,
        WORKFLOW_NAME,
        BatchResult,
        SweepBatch,
        SweepStart,
        SweepSummary,
    )
    from domain.temporal_names import TaskQueue

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)
STORE_TIMEOUT = timedelta(minutes=5)
# Each read is cut off at the per-host timeout (at most 600 s) and a batch holds at most
# BATCH_SIZE hosts; with one host at a time that bounds a batch's time.
BATCH_TIMEOUT = timedelta(seconds=600 * BATCH_SIZE + 120)
BATCH_HEARTBEAT = timedelta(seconds=600 + 60)


@workflow.defn(name=WORKFLOW_NAME)
class InventorySweepWorkflow:
    @workflow.run
    async def run(self, start: SweepStart) -> SweepSummary:
        sweep_id, batches = await workflow.execute_activity(
            Inventory.BEGIN,
            start,
            task_queue=TaskQueue.CAMPAIGNS,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
            result_type=tuple[int, list[list[int]]],
        )
        try:
            for server_ids in batches:
                await workflow.execute_activity(
                    Inventory.READ_BATCH,
                    SweepBatch(sweep_id=sweep_id, server_ids=server_ids),
                    task_queue=TaskQueue.REDFISH,
                    start_to_close_timeout=BATCH_TIMEOUT,
                    heartbeat_timeout=BATCH_HEARTBEAT,
                    retry_policy=RETRY,
                    result_type=BatchResult,
                )
            return await workflow.execute_activity(
                Inventory.FINISH,
                sweep_id,
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
                result_type=SweepSummary,
            )
        except ActivityError as exc:
            await workflow.execute_activity(
                Inventory.FAIL,
                args=[sweep_id, str(exc.cause or exc)],
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
            )
            raise
