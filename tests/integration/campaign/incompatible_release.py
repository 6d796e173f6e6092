"""An earlier, incompatible release of the rollout and the runbook (its own module: the
workflow sandbox re-imports it, so it imports nothing but workflow code)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.runbook import ClusterResult, ClusterRollout, HostJob, HostOutcome
    from domain.temporal_names import TaskQueue, host_workflow_id

from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow

STUCK = "alpha"
STUCK_HOST = "BLAB001"


@workflow.defn(name="ClusterRolloutWorkflow")
class IncompatibleRollout(ClusterRolloutWorkflow):
    """The STUCK cluster's rollout started its first host at once and waited for it;
    today's code decides differently on the same history."""

    @workflow.run
    async def run(self, rollout: ClusterRollout) -> ClusterResult:
        if rollout.cluster == STUCK:
            first = rollout.hosts[0]
            await workflow.start_child_workflow(
                HostUpdateWorkflow.run,
                first,
                id=host_workflow_id(first.campaign_id, first.host.service_tag),
                task_queue=TaskQueue.CAMPAIGNS,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
            await workflow.wait_condition(lambda: self.stop_reason is not None)
        return await super().run(rollout)


@workflow.defn(name="HostUpdateWorkflow")
class IncompatibleRunbook(HostUpdateWorkflow):
    """STUCK_HOST's runbook first waited an hour; today's code starts with its preflight."""

    @workflow.run
    async def run(self, job: HostJob) -> HostOutcome:
        if job.host.service_tag == STUCK_HOST:
            await workflow.wait_condition(lambda: False, timeout=timedelta(hours=1))
        return await super().run(job)
