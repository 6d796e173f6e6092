"""DiscoveryWorkflow: probe explicit ranges chunk by chunk, then diff, record and enroll.

Chunks run one after another, each under the request's concurrency cap, so the cap holds
for the whole discovery. A chunk retried after a worker crash rescans only its own
addresses; its findings replace the earlier attempt's. The addresses never enter the
history: each activity expands its chunk from the request.
"""

from __future__ import annotations

import math
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.names import Discovery
    from domain.discovery import (
        CHUNK_SIZE,
        WORKFLOW_NAME,
        ChunkResult,
        DiscoveryRequest,
        DiscoveryStart,
        DiscoverySummary,
        ScanChunk,
        chunk_count,
        discovery_validation_id,
    )
    from domain.onboarding import VALIDATION_WORKFLOW, ValidationRequest, ValidationSummary
    from domain.temporal_names import TaskQueue

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)
STORE_TIMEOUT = timedelta(minutes=5)


def _scan_timeouts(request: DiscoveryRequest) -> tuple[timedelta, timedelta]:
    """(start-to-close, heartbeat): a chunk of silent addresses still fits; a dead worker
    is noticed after the slowest single probe (root, then identity)."""
    per_probe = 2 * request.address_timeout_s
    rounds = math.ceil(CHUNK_SIZE / request.concurrency)
    return timedelta(seconds=rounds * per_probe + 120), timedelta(seconds=per_probe + 30)


@workflow.defn(name=WORKFLOW_NAME)
class DiscoveryWorkflow:
    def __init__(self) -> None:
        self._chunks_done = 0
        self._chunks = 0

    @workflow.query
    def progress(self) -> dict[str, int]:
        return {"chunks_done": self._chunks_done, "chunks": self._chunks}

    @workflow.run
    async def run(self, start: DiscoveryStart) -> DiscoverySummary:
        self._chunks = chunk_count(start.request)
        timeout, heartbeat = _scan_timeouts(start.request)
        try:
            for index in range(self._chunks):
                await workflow.execute_activity(
                    Discovery.SCAN,
                    ScanChunk(run_id=start.run_id, request=start.request, index=index),
                    task_queue=TaskQueue.REDFISH,
                    start_to_close_timeout=timeout,
                    heartbeat_timeout=heartbeat,
                    retry_policy=RETRY,
                    result_type=ChunkResult,
                )
                self._chunks_done += 1
            summary = await workflow.execute_activity(
                Discovery.FINISH,
                start,
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=RETRY,
                result_type=DiscoverySummary,
            )
            if start.request.enroll and start.request.validate_enrolled:
                summary = await self._validate(start.run_id, summary)
        except (ActivityError, ChildWorkflowError) as exc:
            reason = str(exc.cause or exc)
            await workflow.execute_activity(
                Discovery.FAIL,
                args=[start.run_id, reason],
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=STORE_TIMEOUT,
            )
            raise
        return summary

    async def _validate(self, run_id: int, summary: DiscoverySummary) -> DiscoverySummary:
        """Onboarding validation of what this run found, as a child workflow."""
        validation = await workflow.execute_child_workflow(
            VALIDATION_WORKFLOW,
            ValidationRequest(discovery_run_id=run_id),
            id=discovery_validation_id(run_id),
            task_queue=TaskQueue.CAMPAIGNS,
            result_type=ValidationSummary,
        )
        await workflow.execute_activity(
            Discovery.VALIDATED,
            args=[run_id, validation],
            task_queue=TaskQueue.CAMPAIGNS,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RETRY,
        )
        return summary.model_copy(
            update={"validated": validation.validated, "passed": validation.passed}
        )
