"""Watching and ending a campaign's rollouts from outside their workflows.

A rollout whose workflow task keeps failing (non-determinism after an incompatible deploy,
a defect) cannot notice anything itself, not even an operator's stop. The campaign keeps
a watch beside its rollouts that reads them through Temporal; what it finds is named in
the campaign's status and alerted, and an abort ends such a rollout from outside. Its
hosts are then reported as their own runbooks left them (host runbooks are separate
workflows that outlive their rollout), never guessed.

``read_clock`` is the workflows' clock for decisions on elapsed time: as a local activity
its answer is recorded in history, so a replay decides exactly as the live run did.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.heartbeat import heartbeating_task
from activities.names import Supervise
from common.temporal import failure_message
from domain.runbook import (
    ClusterResult,
    EndRollout,
    HostOutcome,
    HostStatus,
    RolloutProblem,
    WatchedRollouts,
)
from domain.temporal_names import (
    CAMPAIGN_ID,
    CLUSTER_NAME,
    SERVICE_TAG,
    campaign_workflow_id,
    cluster_workflow_id,
    host_workflow_id,
)

# A workflow task that failed this often in a row is not a hiccup: the server retries it
# forever and the workflow cannot move until someone acts. Killed workers also raise the
# attempt (their tasks time out), so an attempt count alone means "stuck" only when it is
# far beyond what crashes in a row produce.
FAILING_ATTEMPTS = 3
NOT_COMPLETING_ATTEMPTS = 8


class SupervisionActivities:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name=Supervise.READ_CLOCK)
    async def read_clock(self) -> datetime:
        return datetime.now(UTC)

    @activity.defn(name=Supervise.WATCH_ROLLOUTS)
    async def watch_rollouts(self, watched: WatchedRollouts) -> list[RolloutProblem]:
        """Returns as soon as a workflow of the campaign is stuck; runs until cancelled
        otherwise."""
        query = (
            f"{CAMPAIGN_ID.name} = '{watched.campaign_id}' AND ExecutionStatus = 'Running' "
            f"AND WorkflowId != '{campaign_workflow_id(watched.campaign_id)}'"
        )
        while True:
            found = [
                problem
                async for execution in self.client.list_workflows(query)
                if execution.id not in watched.known
                and (problem := await self.problem(execution)) is not None
            ]
            if found:
                return found
            activity.heartbeat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(activity.wait_for_worker_shutdown(), watched.interval_s)
            if activity.is_worker_shutdown():  # a deploy must not wait for the watch
                raise ApplicationError("worker shutting down: the watch moves to another worker")

    async def problem(self, execution: WorkflowExecution) -> RolloutProblem | None:
        handle = self.client.get_workflow_handle(execution.id)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:  # gone meanwhile
                return None
            raise
        raw = description.raw_description
        if description.status != WorkflowExecutionStatus.RUNNING or not raw.HasField(
            "pending_workflow_task"
        ):
            return None
        attempt = raw.pending_workflow_task.attempt
        if attempt < FAILING_ATTEMPTS:
            return None
        failure = await _failure_since_last_completion(handle, self.client.data_converter)
        if failure is None and attempt < NOT_COMPLETING_ATTEMPTS:
            return None
        attributes = execution.typed_search_attributes
        return RolloutProblem(
            cluster=attributes.get(CLUSTER_NAME) or "",
            service_tag=attributes.get(SERVICE_TAG),
            workflow_id=execution.id,
            detail=f"workflow task failing (attempt {attempt}): "
            f"{failure or 'it times out on every worker'}",
        )

    @activity.defn(name=Supervise.END_RUNBOOK)
    async def end_runbook(self, workflow_id: str, reason: str) -> None:
        """Terminate a host runbook stuck in its own code: its rollout then reports the host
        held, for a human to look at (where it stopped is unknown)."""
        await _terminate(self.client.get_workflow_handle(workflow_id), reason)

    @activity.defn(name=Supervise.END_ROLLOUT)
    async def end_rollout(self, request: EndRollout) -> ClusterResult:
        """Terminate the rollout, then wait for every host runbook it started to finish."""
        handle = self.client.get_workflow_handle(
            cluster_workflow_id(request.campaign_id, request.cluster)
        )
        rollout_started = (await handle.describe()).start_time
        await _terminate(handle, request.reason)
        outcomes: list[HostOutcome] = []
        not_started: list[str] = []
        async with heartbeating_task():
            for tag in request.service_tags:
                outcome = await self.host_outcome(request.campaign_id, tag, rollout_started)
                if outcome is None:
                    not_started.append(tag)
                else:
                    outcomes.append(outcome)
        return ClusterResult(
            cluster=request.cluster,
            outcomes=outcomes,
            not_started=not_started,
            stopped_reason=request.reason,
        )

    async def host_outcome(
        self, campaign_id: int, tag: str, rollout_started: datetime
    ) -> HostOutcome | None:
        """None when this rollout never started the host (a runbook under the same id
        from before the rollout belongs to an earlier campaign of a reset database)."""
        handle = self.client.get_workflow_handle(
            host_workflow_id(campaign_id, tag), result_type=HostOutcome
        )
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if description.start_time < rollout_started:
            return None
        try:
            return await handle.result()
        except WorkflowFailureError as error:
            # The runbook itself broke: the host's state is unknown, so a human must look.
            return HostOutcome(
                service_tag=tag,
                status=HostStatus.HELD,
                reason=f"host workflow failed: {error.cause or error}",
                started_at=description.start_time,
                finished_at=description.close_time or datetime.now(UTC),
            )


async def _terminate(handle: WorkflowHandle[object, object], reason: str) -> None:
    try:
        await handle.terminate(reason=reason)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: it ended by itself
            raise


async def _failure_since_last_completion(
    handle: WorkflowHandle[object, object], converter: DataConverter
) -> str | None:
    """The failure the workflow task recorded since it last completed, if any (Temporal
    records a task's first failed attempt; a first attempt lost with a killed worker is
    recorded as a timeout instead)."""
    failure: str | None = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            failure = None
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            raw = event.workflow_task_failed_event_attributes.failure
            failure = (await failure_message(converter, raw))[:500]  # encrypted in history
    return failure
