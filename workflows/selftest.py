"""SelfTestWorkflow: proves that workers poll every task queue the campaigns need.

Run by `idrac-orch selftest` after a deploy, and by the smoke tests.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.selftest import probe_redfish_queue, probe_vcenter_queue
    from domain.selftest import QueueProbe, SelfTestResult
    from domain.temporal_names import TaskQueue


@workflow.defn
class SelfTestWorkflow:
    @workflow.run
    async def run(self) -> SelfTestResult:
        # schedule_to_close bounds the wait for a worker: a queue nobody polls fails in 30 s.
        redfish = await workflow.execute_activity(
            probe_redfish_queue,
            task_queue=TaskQueue.REDFISH,
            schedule_to_close_timeout=timedelta(seconds=30),
        )
        vcenter = await workflow.execute_activity(
            probe_vcenter_queue,
            task_queue=TaskQueue.VCENTER,
            schedule_to_close_timeout=timedelta(seconds=30),
        )
        campaigns = QueueProbe(task_queue=workflow.info().task_queue, worker="workflow-worker")
        return SelfTestResult(probes=[campaigns, redfish, vcenter])
