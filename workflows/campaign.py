"""CampaignWorkflow: bring the targeted clusters to the firmware baseline.

    plan (which hosts, which components) from inventory and baseline
    roll every cluster in parallel (one ClusterRolloutWorkflow each)
    hand out campaign-wide host slots so no more than the global cap are down at once
    stop everything on the campaign failure threshold or an operator's abort

Operators: ``pause``/``resume`` signals, ``abort(reason)`` update (validated before it is
accepted), ``status`` query. No host is ever cut short: stopping only means starting no
new hosts; running ones finish or compensate per policy.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ChildWorkflowHandle, ExternalWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.names import Store, Supervise
    from domain.campaign_spec import (
        QUERY_STATUS,
        SIGNAL_PAUSE,
        SIGNAL_RESUME,
        UPDATE_ABORT,
        UPDATE_APPROVE,
        UPDATE_REJECT,
        AbortRequest,
        ApprovalDecision,
        CampaignStartInput,
    )
    from domain.notifications import EventKind
    from domain.runbook import (
        CampaignPlan,
        CampaignResult,
        CampaignState,
        CampaignStatus,
        ClusterResult,
        ClusterRollout,
        EndRollout,
        HostOutcome,
        HostSlot,
        HostStatus,
        RolloutProblem,
        WatchedRollouts,
    )
    from domain.temporal_names import (
        CAMPAIGN_ID,
        CAMPAIGN_STATUS,
        TaskQueue,
        cluster_workflow_id,
        rollout_search_attributes,
    )

from workflows.approval import APPROVALS, PER_CLUSTER_APPROVAL, ApprovalGate
from workflows.calls import RETRY
from workflows.cluster import ClusterRolloutWorkflow
from workflows.notify import Notifier

PLAN_HEARTBEAT = timedelta(seconds=30)
SUPERVISION_HEARTBEAT = timedelta(seconds=30)
# Watching and ending rollouts must outlast any number of worker crashes.
SUPERVISION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=0)
HOSTS_FINISH_TIMEOUT = timedelta(hours=6)  # a stuck rollout's running runbooks end first
SUPERVISED_ROLLOUTS = "supervised-rollouts"  # campaigns recorded before the watch replay
FINAL_EVENTS = {
    CampaignState.COMPLETED: EventKind.CAMPAIGN_COMPLETED,
    CampaignState.FINISHED_WITH_FAILURES: EventKind.CAMPAIGN_FAILED,
    CampaignState.HALTED: EventKind.CAMPAIGN_FAILED,
    CampaignState.ABORTED: EventKind.CAMPAIGN_ABORTED,
}
FINAL_STATES = {
    CampaignState.COMPLETED,
    CampaignState.FINISHED_WITH_FAILURES,
    CampaignState.HALTED,
    CampaignState.ABORTED,
}


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, start: CampaignStartInput) -> None:
        self.campaign_id = start.campaign_id
        self.policy = start.spec.policy
        self.state = CampaignState.PLANNING
        self.closed = False  # the result is out; until then no one is told it is final
        self.paused = False
        self.abort_reason: str | None = None
        self.stop_reason: str | None = None
        self.plan: CampaignPlan | None = None
        self.clusters: dict[str, ChildWorkflowHandle[ClusterRolloutWorkflow, ClusterResult]] = {}
        self.slots_in_use: set[str] = set()
        self.slot_queue: list[HostSlot] = []
        self.outcomes: list[HostOutcome] = []
        self.problems: dict[str, RolloutProblem] = {}  # by workflow id
        self.notifier = Notifier(start.campaign_id)
        self.subject = f"campaign {start.campaign_id}"
        approval = start.spec.policy.approval
        self.gate = ApprovalGate(approval, start.created_by) if approval else None
        # Per-cluster approval: one gate per cluster, opened as each cluster's turn comes.
        # The spec decides which decisions are accepted; the patch, whether roll() waits.
        self.per_cluster = approval is not None and approval.per_cluster
        self.clusters_wait_for_approval = False
        self.cluster_gates: dict[str, ApprovalGate] = {}

    # ---- operator messages -------------------------------------------------------------

    @workflow.signal(name=SIGNAL_PAUSE)
    async def pause(self) -> None:
        if not self.paused:
            self.notifier.emit(EventKind.CAMPAIGN_PAUSED, self.subject, "paused by an operator")
        self.paused = True
        await self.tell_clusters(ClusterRolloutWorkflow.pause)

    @workflow.signal(name=SIGNAL_RESUME)
    async def resume(self) -> None:
        if self.paused:
            self.notifier.emit(EventKind.CAMPAIGN_RESUMED, self.subject, "resumed by an operator")
        self.paused = False
        await self.tell_clusters(ClusterRolloutWorkflow.resume)

    @workflow.update(name=UPDATE_ABORT)
    async def abort(self, request: AbortRequest) -> str:
        self.abort_reason = request.reason
        await self.halt(f"aborted by an operator: {request.reason}")
        return "accepted: no new hosts start; running hosts finish or compensate"

    @abort.validator
    def validate_abort(self, request: AbortRequest) -> None:
        if self.state in FINAL_STATES:
            raise ValueError(f"campaign already {self.state.value}")
        if self.abort_reason is not None:
            raise ValueError(f"campaign already aborting: {self.abort_reason}")
        if not request.reason.strip():
            raise ValueError("reason: must not be blank")

    @workflow.update(name=UPDATE_APPROVE)
    def approve(self, decision: ApprovalDecision) -> str:
        return self.gate_for(decision).approve(decision)

    @approve.validator
    def validate_approve(self, decision: ApprovalDecision) -> None:
        self.check_decision(decision)

    @workflow.update(name=UPDATE_REJECT)
    def reject(self, decision: ApprovalDecision) -> str:
        return self.gate_for(decision).reject(decision)

    @reject.validator
    def validate_reject(self, decision: ApprovalDecision) -> None:
        self.check_decision(decision)
        if not (decision.reason or "").strip():
            raise ValueError("reason: must not be blank")

    def check_decision(self, decision: ApprovalDecision) -> None:
        if self.gate is None:
            raise ValueError("this campaign's policy needs no approval")
        if self.state in FINAL_STATES or self.stop_reason is not None:
            raise ValueError(f"campaign already {self.state.value}")
        if self.per_cluster and decision.cluster is None:
            pending = ", ".join(sorted(self.waiting_clusters())) or "none right now"
            raise ValueError(
                f"this campaign is approved per cluster: name the cluster (waiting: {pending})"
            )
        if not self.per_cluster and decision.cluster is not None:
            raise ValueError("this campaign is approved as a whole, not per cluster")
        if decision.cluster is not None and decision.cluster not in self.cluster_gates:
            raise ValueError(f"cluster {decision.cluster} does not wait for approval")
        self.gate_for(decision).check(decision)

    def gate_for(self, decision: ApprovalDecision) -> ApprovalGate:
        if decision.cluster is not None:
            return self.cluster_gates[decision.cluster]
        assert self.gate is not None
        return self.gate

    def waiting_clusters(self) -> list[str]:
        return [name for name, gate in self.cluster_gates.items() if not gate.decided]

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> CampaignStatus:
        state, waiting = self.state, None
        if state == CampaignState.RUNNING and self.paused:
            state = CampaignState.PAUSED
        if state in FINAL_STATES and not self.closed:  # its last notifications still go out
            state = CampaignState.RUNNING if self.abort_reason is None else CampaignState.ABORTING
            waiting = "closing: sending the final notifications"
        if self.state == CampaignState.AWAITING_APPROVAL and self.gate:
            waiting = self.gate.waiting_reason()
        elif state == CampaignState.RUNNING and waiting is None and self.waiting_clusters():
            clusters = ", ".join(
                f"cluster {name} ({len(gate.approved_by)} of {gate.policy.required_approvals})"
                for name, gate in sorted(self.cluster_gates.items())
                if not gate.decided
            )
            waiting = f"waiting for approval of {clusters}"
        return CampaignStatus(
            campaign_id=self.campaign_id,
            state=state,
            stop_reason=self.stop_reason,
            clusters=sorted(self.clusters),
            hosts_in_flight=sorted(self.slots_in_use),
            outcomes=self.outcomes,
            unresolved=self.plan.unresolved if self.plan else [],
            problems=list(self.problems.values()),
            waiting_reason=waiting,
            approved_by=list(self.gate.approved_by) if self.gate and not self.per_cluster else [],
            cluster_approvals=[gate.snapshot() for _, gate in sorted(self.cluster_gates.items())],
        )

    # ---- messages from cluster rollouts ------------------------------------------------

    @workflow.signal
    async def request_slot(self, slot: HostSlot) -> None:
        self.slot_queue.append(slot)
        await self.grant_slots()

    @workflow.signal
    async def release_slot(self, slot: HostSlot) -> None:
        self.slots_in_use.discard(slot.service_tag)
        await self.grant_slots()

    @workflow.signal
    async def host_finished(self, outcome: HostOutcome) -> None:
        self.outcomes.append(outcome)
        self.slots_in_use.discard(outcome.service_tag)
        if outcome.status is HostStatus.HELD:
            self.notifier.emit(
                EventKind.HOST_HELD,
                f"host {outcome.service_tag} ({self.subject})",
                outcome.describe(),
                discriminator=outcome.service_tag,
            )
        failures = sum(o.counts_as_failure for o in self.outcomes)
        threshold = self.policy.campaign_failure_threshold
        if failures >= threshold:
            await self.halt(
                f"{failures} failed host(s) reached the campaign threshold of {threshold}"
            )
        await self.grant_slots()

    # ---- the campaign ------------------------------------------------------------------

    @workflow.run
    async def run(self, start: CampaignStartInput) -> CampaignResult:
        workflow.upsert_search_attributes([CAMPAIGN_ID.value_set(str(self.campaign_id))])
        self.set_state(CampaignState.PLANNING)
        try:
            self.plan = await workflow.execute_activity(
                Store.PLAN_CAMPAIGN,
                start,
                result_type=CampaignPlan,
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=PLAN_HEARTBEAT,  # a worker killed while planning
                retry_policy=RETRY,
            )
        except ActivityError as error:
            self.notifier.emit(
                EventKind.CAMPAIGN_FAILED, self.subject, f"planning failed: {error.cause or error}"
            )
            await self.notifier.drain()
            raise
        self.notifier.emit(EventKind.CAMPAIGN_PLANNED, self.subject, self.plan_summary())
        if self.per_cluster and workflow.patched(PER_CLUSTER_APPROVAL):
            self.clusters_wait_for_approval = True  # each in roll(), before its rollout
        elif self.gate is not None and workflow.patched(APPROVALS):
            await self.wait_for_approval(self.gate)
        if self.stop_reason is None:
            results = await self.roll_clusters(self.plan.clusters)
        else:  # rejected, expired or aborted while waiting for approval: nothing started
            results = [self.not_started(rollout) for rollout in self.plan.clusters]
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.end_if_no_cluster_approved()
        self.set_state(self.final_state(results))
        self.notifier.emit(
            FINAL_EVENTS[self.state],
            self.subject,
            self.final_summary(results),
        )
        await self.notifier.drain()
        self.closed = True
        return CampaignResult(
            campaign_id=self.campaign_id,
            state=self.state,
            stop_reason=self.stop_reason,
            clusters=list(results),
            unresolved=self.plan.unresolved,
        )

    async def wait_for_approval(self, gate: ApprovalGate) -> None:
        """Hosts stay untouched until approved; a rejection or the expiry ends the campaign
        as aborted, with the reason as its stop reason."""
        self.set_state(CampaignState.AWAITING_APPROVAL)
        policy = gate.policy
        creator = f" other than its creator {gate.creator}" if gate.creator else ""
        self.notifier.emit(
            EventKind.APPROVAL_NEEDED,
            self.subject,
            f"needs {policy.required_approvals} approval(s) from approvers{creator} within "
            f"{policy.expires_after_hours:g} h; {self.plan_summary()}",
        )
        refused = await gate.wait(lambda: self.stop_reason is not None)
        if refused is not None and self.stop_reason is None:
            self.abort_reason = refused
            self.stop_reason = refused

    async def wait_for_cluster_approval(self, rollout: ClusterRollout) -> str | None:
        """Per-cluster approval: the cluster's rollout is not started (no host touched)
        until its own approvals arrive. Returns why it must not start (rejected, expired);
        None once approved or when the campaign stops meanwhile (the caller checks)."""
        assert self.gate is not None
        gate = ApprovalGate(self.gate.policy, self.gate.creator, rollout.cluster)
        self.cluster_gates[rollout.cluster] = gate
        creator = f" other than the campaign's creator {gate.creator}" if gate.creator else ""
        self.notifier.emit(
            EventKind.APPROVAL_NEEDED,
            f"cluster {rollout.cluster} ({self.subject})",
            f"needs {gate.policy.required_approvals} approval(s) from approvers{creator} "
            f"within {gate.policy.expires_after_hours:g} h before its first host; "
            f"{len(rollout.hosts)} hosts",
            discriminator=rollout.cluster,
        )
        return await gate.wait(lambda: self.stop_reason is not None)

    def end_if_no_cluster_approved(self) -> None:
        """Per-cluster approval: a refused cluster leaves the others going, and the campaign
        ends with failures (hosts it targeted were not updated); when every cluster was
        refused nothing ran at all, and the campaign ends aborted, as a whole rejection."""
        if not self.cluster_gates or self.stop_reason is not None or self.plan is None:
            return
        refused = {name: gate.refusal for name, gate in self.cluster_gates.items()}
        if len(self.plan.clusters) == len(refused) and all(refused.values()):
            reason = "no cluster approved: " + "; ".join(
                f"{name}: {why}" for name, why in sorted(refused.items())
            )
            self.abort_reason = self.stop_reason = reason

    async def roll_clusters(self, clusters: list[ClusterRollout]) -> list[ClusterResult]:
        self.set_state(CampaignState.RUNNING)
        self.notifier.emit(EventKind.CAMPAIGN_STARTED, self.subject, "rolling the clusters")
        supervision = []
        if workflow.patched(SUPERVISED_ROLLOUTS):
            supervision = [
                asyncio.create_task(self.watch_rollouts()),
                asyncio.create_task(self.end_stuck_runbooks()),
            ]
        results = await asyncio.gather(*(self.roll(rollout) for rollout in clusters))
        for task in supervision:
            task.cancel()
        await asyncio.gather(*supervision, return_exceptions=True)
        return list(results)

    def not_started(self, rollout: ClusterRollout, reason: str | None = None) -> ClusterResult:
        return ClusterResult(
            cluster=rollout.cluster,
            outcomes=[],
            not_started=[job.host.service_tag for job in rollout.hosts],
            stopped_reason=reason or self.stop_reason,
        )

    async def roll(self, rollout: ClusterRollout) -> ClusterResult:
        if self.stop_reason is not None:  # halted before this cluster even started
            return self.not_started(rollout)
        if self.clusters_wait_for_approval:
            refused = await self.wait_for_cluster_approval(rollout)
            if refused is not None or self.stop_reason is not None:
                return self.not_started(rollout, refused)
        handle = await workflow.start_child_workflow(
            ClusterRolloutWorkflow.run,
            rollout,
            id=cluster_workflow_id(self.campaign_id, rollout.cluster),
            task_queue=TaskQueue.CAMPAIGNS,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=rollout_search_attributes(self.campaign_id, rollout.cluster),
        )
        self.clusters[rollout.cluster] = handle
        if self.paused:  # an operator's message may have raced the start
            await handle.signal(ClusterRolloutWorkflow.pause)
        if self.stop_reason is not None:
            await handle.signal(ClusterRolloutWorkflow.stop, self.stop_reason)
        finished = asyncio.ensure_future(_result(handle))
        await workflow.wait_condition(
            lambda: finished.done() or self.must_end_from_outside(rollout.cluster)
        )
        if finished.done():
            return finished.result()
        return await self.end_from_outside(rollout, finished)

    # ---- rollouts that cannot move by themselves ----------------------------------------

    async def watch_rollouts(self) -> None:
        """Until cancelled: name and alert every rollout or runbook of the campaign whose
        workflow task keeps failing (it cannot hear a stop); an abort ends it from outside."""
        while True:
            found: list[RolloutProblem] = await workflow.execute_activity(
                Supervise.WATCH_ROLLOUTS,
                WatchedRollouts(campaign_id=self.campaign_id, known=sorted(self.problems)),
                result_type=list[RolloutProblem],
                task_queue=TaskQueue.SUPERVISION,
                start_to_close_timeout=timedelta(days=365),
                heartbeat_timeout=SUPERVISION_HEARTBEAT,
                retry_policy=SUPERVISION_RETRY,
            )
            self.problems.update((problem.workflow_id, problem) for problem in found)
            await asyncio.gather(*(self.alert(problem) for problem in found))

    async def alert(self, problem: RolloutProblem) -> None:
        subject = problem.service_tag or problem.cluster
        activity = Store.RAISE_ALERT if problem.service_tag else Store.RAISE_CLUSTER_ALERT
        await workflow.execute_activity(
            activity,
            args=[self.campaign_id, subject, problem.detail],
            task_queue=TaskQueue.CAMPAIGNS,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )

    async def end_stuck_runbooks(self) -> None:
        """Once stopping, a host runbook stuck in its own code is terminated: its rollout
        then reports the host held for a human, and the campaign can end."""
        ended: set[str] = set()

        def stuck() -> list[RolloutProblem]:
            return [
                problem
                for problem in self.problems.values()
                if problem.service_tag is not None and problem.workflow_id not in ended
            ]

        while True:
            await workflow.wait_condition(lambda: self.stop_reason is not None and bool(stuck()))
            for problem in stuck():
                ended.add(problem.workflow_id)
                await workflow.execute_activity(
                    Supervise.END_RUNBOOK,
                    args=[problem.workflow_id, f"{problem.detail}; {self.stop_reason}"],
                    task_queue=TaskQueue.SUPERVISION,
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=SUPERVISION_RETRY,
                )

    def must_end_from_outside(self, cluster: str) -> bool:
        workflow_id = cluster_workflow_id(self.campaign_id, cluster)
        return workflow_id in self.problems and self.stop_reason is not None

    async def end_from_outside(
        self, rollout: ClusterRollout, finished: asyncio.Future[ClusterResult]
    ) -> ClusterResult:
        """Terminate a stuck rollout, report its hosts as their runbooks left them, and
        free the campaign slots it held."""
        handle_id = cluster_workflow_id(self.campaign_id, rollout.cluster)
        result: ClusterResult = await workflow.execute_activity(
            Supervise.END_ROLLOUT,
            EndRollout(
                campaign_id=self.campaign_id,
                cluster=rollout.cluster,
                service_tags=[job.host.service_tag for job in rollout.hosts],
                reason=f"{self.problems[handle_id].detail}; {self.stop_reason}",
            ),
            result_type=ClusterResult,
            task_queue=TaskQueue.SUPERVISION,
            start_to_close_timeout=HOSTS_FINISH_TIMEOUT,
            heartbeat_timeout=SUPERVISION_HEARTBEAT,
            retry_policy=SUPERVISION_RETRY,
        )
        with contextlib.suppress(ChildWorkflowError):  # terminated: we know why
            await finished
        reported = {outcome.service_tag for outcome in self.outcomes}
        unheard = [o for o in result.outcomes if o.service_tag not in reported]
        await asyncio.gather(  # the stuck rollout never recorded these
            *(
                workflow.execute_activity(
                    Store.RECORD_HOST_OUTCOME,
                    args=[self.campaign_id, rollout.cluster, outcome],
                    task_queue=TaskQueue.CAMPAIGNS,
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=RETRY,
                )
                for outcome in unheard
            )
        )
        self.outcomes += unheard
        self.slots_in_use -= {job.host.service_tag for job in rollout.hosts}
        return result

    async def grant_slots(self) -> None:
        """Up to the global cap, nothing new once stopping. The cluster with the most work
        left per allowed slot goes first (then first come, first served): it sets the
        campaign's end, and smaller clusters fill the slots it cannot use."""
        granted: list[HostSlot] = []
        while (
            self.slot_queue
            and self.stop_reason is None
            and len(self.slots_in_use) < self.policy.global_max_concurrent
        ):
            slot = max(self.slot_queue, key=lambda queued: queued.work_per_slot_s)
            self.slot_queue.remove(slot)
            self.slots_in_use.add(slot.service_tag)
            granted.append(slot)
        # All grants leave in one workflow task: one at a time, a burst of finished hosts
        # kept the last cluster in line waiting a round trip per grant before it.
        await asyncio.gather(
            *(
                signal_if_running(
                    workflow.get_external_workflow_handle(slot.cluster_workflow_id),
                    ClusterRolloutWorkflow.slot_granted,
                    slot.service_tag,
                )
                for slot in granted
            )
        )

    async def halt(self, reason: str) -> None:
        if self.stop_reason is not None:
            return
        self.stop_reason = reason
        self.slot_queue.clear()
        if self.abort_reason is not None:
            self.set_state(CampaignState.ABORTING)
        await self.tell_clusters(ClusterRolloutWorkflow.stop, reason)

    async def tell_clusters(self, signal: object, *args: object) -> None:
        """Every cluster at once: a pause or stop reaches the last one as soon as the first."""
        await asyncio.gather(
            *(signal_if_running(handle, signal, *args) for handle in list(self.clusters.values()))
        )

    def final_state(self, results: list[ClusterResult]) -> CampaignState:
        if self.abort_reason is not None:
            return CampaignState.ABORTED
        if self.stop_reason is not None:
            return CampaignState.HALTED
        failed = any(o.counts_as_failure for r in results for o in r.outcomes)
        incomplete = any(r.not_started or r.stopped_reason for r in results)
        if failed or incomplete or (self.plan and self.plan.unresolved):
            return CampaignState.FINISHED_WITH_FAILURES
        return CampaignState.COMPLETED

    def plan_summary(self) -> str:
        assert self.plan is not None
        clusters = [f"{c.cluster} ({len(c.hosts)} hosts)" for c in self.plan.clusters]
        unresolved = (
            f"; unresolved: {', '.join(self.plan.unresolved)}" if self.plan.unresolved else ""
        )
        return f"clusters: {', '.join(clusters) or 'none'}{unresolved}"

    def final_summary(self, results: list[ClusterResult]) -> str:
        counts: dict[str, int] = {}
        for outcome in (o for r in results for o in r.outcomes):
            counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
        hosts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no hosts"
        why = f"; {self.stop_reason}" if self.stop_reason else ""
        return f"{self.state.value}: {hosts}{why}"

    def set_state(self, state: CampaignState) -> None:
        self.state = state
        workflow.upsert_search_attributes([CAMPAIGN_STATUS.value_set(state.value)])


async def _result(
    handle: ChildWorkflowHandle[ClusterRolloutWorkflow, ClusterResult],
) -> ClusterResult:
    return await handle


async def signal_if_running(
    handle: ChildWorkflowHandle[Any, Any] | ExternalWorkflowHandle[Any],
    signal: Any,
    *args: Any,
) -> None:
    """Signal a cluster rollout; one that has already finished has nothing left to hear."""
    try:
        await handle.signal(signal, *args)
    except ApplicationError as error:
        # The server's verdict arrives as the failure's type or as its message prefix.
        if "ExternalWorkflowExecutionNotFound" not in f"{error.type} {error.message}":
            raise
