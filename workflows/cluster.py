"""ClusterRolloutWorkflow: one cluster's rolling update, one safe host at a time.

while hosts remain and nobody said stop:
    paused?               -> wait for resume
    outside a window?     -> sleep until one opens that the next host fits in
    not yet preflighted?  -> read the host (iDRAC and vCenter, read-only) while it waits
                             for room: compliant or blocked, it ends here, takes no slot
    cluster at capacity?  -> wait for a host to finish (vCenter decides what "full" is)
    no campaign slot?     -> wait for the campaign's global cap (a long wait: go round,
                             window and capacity may have changed meanwhile)
    preflight grown stale while it waited? -> read the host again
    start the host's runbook (a child workflow) and go round again
a host vCenter refused maintenance before anything changed goes back to the queue
(up to MAX_REFUSALS times), its reason shown; it does not count as failed; while hosts
run, the queue may fill again this way, so the loop waits for them before it ends.
wait for running hosts to finish; they always finish their runbook, even on abort.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError, TerminatedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.names import Store, Supervise, Vcenter
    from domain.capacity import CapacityAnswer
    from domain.notifications import EventKind
    from domain.runbook import (
        CapacityRequest,
        ClusterProgress,
        ClusterResult,
        ClusterRollout,
        ClusterStatus,
        HostJob,
        HostOutcome,
        HostSlot,
        HostStatus,
        Preflight,
        preflight_outcome,
        preflight_verdict,
    )
    from domain.temporal_names import TaskQueue, host_workflow_id, rollout_search_attributes
    from domain.windows import WaitDecision, parse_windows, wait_reason

from workflows.calls import RETRY, reason_of
from workflows.host import HostUpdateWorkflow
from workflows.notify import Notifier
from workflows.preflight import read_host

CAPACITY_POLL = timedelta(minutes=1)
FRESH_CAPACITY_ANSWER = timedelta(seconds=10)
# Decisions on time read a clock recorded in history (see ``clock``); runs recorded before
# this patch keep deciding on workflow.now() so that they still replay.
RECORDED_CLOCK = "decisions-on-recorded-clock"
# Rollouts recorded before preflighted hosts in the queue and queued refused hosts again.
QUEUE_SEMANTICS = "queue-semantics"
# Rollouts recorded before every host's outcome was announced (host.finished).
HOST_FINISHED_EVENTS = "host-finished-events"
# Rollouts recorded before that announcement (and notifications) were decided at the run's
# start, not at the first host's end (a crash test found a replay asking a task early).
EVENTS_DECIDED_AT_START = "events-decided-at-start"
# Rollouts recorded before the queue was watched until the last running host finished.
REQUEUE_AFTER_LAST = "requeue-after-last-host"
# A preflight older than this when the host starts is read again (it waited long).
PREFLIGHT_FRESH = timedelta(minutes=10)
MAX_REFUSALS = 3


@workflow.defn
class ClusterRolloutWorkflow:
    @workflow.init
    def __init__(self, rollout: ClusterRollout) -> None:
        self.rollout = rollout
        self.windows = parse_windows(rollout.windows)
        self.pending: list[HostJob] = list(rollout.hosts)
        self.running: dict[str, HostJob] = {}
        self.host_tasks: list[asyncio.Task[None]] = []
        self.outcomes: list[HostOutcome] = list(rollout.progress.outcomes)
        self.paused = rollout.progress.paused
        self.stop_reason: str | None = None
        self.waiting_reason: str | None = None
        self.slots_requested: set[str] = set(rollout.progress.slots_requested)
        self.slots_granted: set[str] = set(rollout.progress.slots_granted)
        self.allowed_at_once = 1  # hosts vCenter lets go at once, as of its last answer
        self.preflights: dict[str, Preflight] = {}  # read in the queue, by service tag
        self.refusals: dict[str, int] = dict(rollout.progress.refusals)
        self.requeued: dict[str, str] = dict(rollout.progress.requeued)  # tag -> why
        self.changes = len(self.outcomes)  # hosts finished or queued again: the loop wakes
        # service tag -> changes when refused: it goes again after the next change
        self.refused_after = dict.fromkeys(rollout.progress.awaiting_change, self.changes)
        self.decided_at: datetime | None = None  # the recorded clock of the last decision
        self.queue_semantics = False
        self.requeue_after_last = False
        self.announce_hosts = False
        self.notifier = Notifier(rollout.campaign_id)

    # ---- operator and campaign messages ------------------------------------------------

    @workflow.signal
    def pause(self) -> None:
        self.paused = True

    @workflow.signal
    def resume(self) -> None:
        self.paused = False

    @workflow.signal
    def stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason

    @workflow.signal
    def slot_granted(self, service_tag: str) -> None:
        self.slots_granted.add(service_tag)

    @workflow.query
    def status(self) -> ClusterStatus:
        if self.stop_reason is not None:
            state = "stopping" if self.running else "stopped"
        elif not self.pending and not self.running:
            state = "finished"
        else:
            state = "paused" if self.paused else "running"
        return ClusterStatus(
            cluster=self.rollout.cluster,
            state=state,
            waiting_reason=self.waiting_reason,
            running={tag: "updating" for tag in self.running},
            outcomes=self.outcomes,
            pending=[job.host.service_tag for job in self.pending],
            requeued=self.requeued,
        )

    # ---- the rollout -------------------------------------------------------------------

    @workflow.run
    async def run(self, rollout: ClusterRollout) -> ClusterResult:
        self.queue_semantics = workflow.patched(QUEUE_SEMANTICS)
        self.requeue_after_last = workflow.patched(REQUEUE_AFTER_LAST)
        self.announce_hosts = workflow.patched(EVENTS_DECIDED_AT_START)
        if self.announce_hosts:
            self.notifier.decide_now()
        while self.stop_reason is None and (self.pending or self.may_come_back()):
            if not self.pending:  # the last hosts run: one may yet be refused and requeued
                await self.last_hosts_settled()
                continue
            if not self.running and workflow.info().is_continue_as_new_suggested():
                await self.continue_as_new()
            job = self.pending[0]
            if (
                await self.not_paused()
                and await self.settled_after_refusal(job)
                and await self.window_fits(job)
                and await self.preflighted(job)
                and await self.cluster_has_room(job)
                and await self.campaign_slot(job)
                and self.preflight_fresh(job)
            ):
                self.pending.pop(0)
                self.start_host(job)
        self.waiting_reason = "waiting for running hosts to finish" if self.running else None
        await asyncio.gather(*self.host_tasks)  # each host's runbook and its bookkeeping
        await self.return_unused_slots()
        await self.notifier.drain()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ClusterResult(
            cluster=rollout.cluster,
            outcomes=self.outcomes,
            not_started=[job.host.service_tag for job in self.pending],
            stopped_reason=self.stop_reason,
        )

    async def continue_as_new(self) -> None:
        """A long wait (days of windows or capacity polls) must not grow one history forever;
        between hosts, nothing is in flight, so the rollout restarts from its progress
        (announcements included: the new run would not know they are still unsent)."""
        await self.notifier.drain()
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            self.rollout.model_copy(
                update={
                    "hosts": self.pending,
                    "progress": ClusterProgress(
                        outcomes=self.outcomes,
                        paused=self.paused,
                        slots_requested=sorted(self.slots_requested),
                        slots_granted=sorted(self.slots_granted),
                        refusals=self.refusals,
                        requeued=self.requeued,
                        awaiting_change=sorted(self.refused_after),
                    ),
                }
            )
        )

    async def last_hosts_settled(self) -> None:
        """Until a running host finishes or is queued again (a pause changes nothing here:
        running hosts are never paused)."""
        self.waiting_reason = "waiting for running hosts to finish"
        changes = self.changes
        await workflow.wait_condition(
            lambda: self.changes != changes or self.stop_reason is not None
        )

    def may_come_back(self) -> bool:
        """Whether a running host may still return to the queue (vCenter refusing it)."""
        return self.requeue_after_last and self.queue_semantics and bool(self.running)

    async def not_paused(self) -> bool:
        if not self.paused:
            return True
        self.waiting_reason = "paused by an operator"
        await workflow.wait_condition(lambda: not self.paused or self.stop_reason is not None)
        return False

    async def settled_after_refusal(self, job: HostJob) -> bool:
        """A host vCenter refused goes again only once something changed: another host
        finished, or a capacity poll's time passed."""
        tag = job.host.service_tag
        changes = self.refused_after.pop(tag, None)
        if changes is None:
            return True
        self.waiting_reason = f"{tag} back in the queue: {self.requeued[tag]}"
        await self.wait_for_change(at_most=CAPACITY_POLL, changes=changes)
        return False

    async def preflighted(self, job: HostJob) -> bool:
        """The read-only checks run while the host waits for its turn: a host found
        compliant or blocked ends here and never takes a slot."""
        tag = job.host.service_tag
        if not self.queue_semantics or tag in self.preflights:
            return True
        self.waiting_reason = f"preflight of {tag}"
        try:
            idrac, vcenter = await read_host(job)
        except ActivityError as error:  # wrong login, iDRAC or vCenter unreachable
            await self.end_in_queue(job, (HostStatus.FAILED, reason_of(error)), {})
            return False
        verdict = preflight_verdict(idrac, vcenter)
        if verdict is not None:
            await self.end_in_queue(job, verdict, idrac.versions)
            return False
        self.preflights[tag] = Preflight(idrac=idrac, vcenter=vcenter, read_at=await self.clock())
        return True

    def preflight_fresh(self, job: HostJob) -> bool:
        """A host that waited long (window, capacity, slot) is read again before it starts."""
        found = self.preflights.get(job.host.service_tag)
        if found is None or self.decided_at is None:
            return True
        if self.decided_at - found.read_at < PREFLIGHT_FRESH:
            return True
        del self.preflights[job.host.service_tag]
        return False

    async def end_in_queue(
        self, job: HostJob, verdict: tuple[HostStatus, str], versions: dict[str, str]
    ) -> None:
        self.pending.remove(job)
        now = await self.clock()
        await self.record(job, preflight_outcome(job, *verdict, versions, now, now))

    def window_decision(self, job: HostJob, now: datetime) -> WaitDecision:
        """Whether the host's estimated duration fits in a window starting now."""
        duration = timedelta(seconds=job.estimated_duration_s)
        return wait_reason(self.windows, now, duration)

    async def window_fits(self, job: HostJob) -> bool:
        now = self.decided_at = await self.clock()
        decision = self.window_decision(job, now)
        if decision.ready:
            return True
        self.waiting_reason = decision.reason
        if decision.wake_at is None:
            self.stop(f"{job.host.service_tag}: {decision.reason}")
            self.notifier.emit(
                EventKind.WINDOW_MISSED,
                f"cluster {self.rollout.cluster} (campaign {self.rollout.campaign_id})",
                f"{job.host.service_tag} and the hosts after it not started: {decision.reason}",
                discriminator=job.host.service_tag,
            )
        else:
            await self.wait_for_change(at_most=max(decision.wake_at - now, timedelta(seconds=1)))
        return False

    async def cluster_has_room(self, job: HostJob) -> bool:
        limit = self.rollout.policy.max_concurrent_per_cluster
        if len(self.running) >= limit:
            self.waiting_reason = f"{len(self.running)} hosts updating, the policy allows {limit}"
            await self.wait_for_change()
            return False
        changes = self.changes  # a host may finish while vCenter answers
        answer: CapacityAnswer = await workflow.execute_activity(
            Vcenter.CAPACITY,
            CapacityRequest(
                cluster=self.rollout.cluster,
                vcenter_id=self.rollout.vcenter_id,
                max_concurrent=limit,
                min_hosts_online=self.rollout.policy.min_hosts_online,
                busy_hosts=[job.host.name for job in self.running.values()],
            ),
            result_type=CapacityAnswer,
            task_queue=TaskQueue.VCENTER,
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=timedelta(seconds=job.heartbeat_timeout_s),  # a killed worker
            retry_policy=RETRY,
        )
        self.allowed_at_once = len(self.running) + answer.may_enter
        if answer.may_enter > 0:
            return True
        self.waiting_reason = f"cluster capacity: {answer.reason}"
        await self.wait_for_change(at_most=CAPACITY_POLL, changes=changes)
        return False

    async def campaign_slot(self, job: HostJob) -> bool:
        """The campaign caps hosts in flight across all clusters; standalone runs have no cap."""
        parent = workflow.info().parent
        tag = job.host.service_tag
        if parent is None or tag in self.slots_granted:
            return True
        if tag not in self.slots_requested:
            self.slots_requested.add(tag)
            await self.tell_campaign(
                "request_slot",
                HostSlot(
                    cluster_workflow_id=workflow.info().workflow_id,
                    service_tag=tag,
                    work_per_slot_s=sum(j.estimated_duration_s for j in self.pending)
                    / max(1, self.allowed_at_once),
                ),
            )
        self.waiting_reason = "waiting for a campaign-wide host slot"
        asked_at = await self.clock()
        await workflow.wait_condition(
            lambda: tag in self.slots_granted or self.stop_reason is not None
        )
        if self.stop_reason is not None or self.paused:
            return False
        # A slot granted at once finds vCenter's answer still fresh: start without asking
        # again. After a longer wait, go round: window and capacity are checked anew.
        now = self.decided_at = await self.clock()
        return now - asked_at < FRESH_CAPACITY_ANSWER and self.window_decision(job, now).ready

    def start_host(self, job: HostJob) -> None:
        self.waiting_reason = None
        preflight = self.preflights.pop(job.host.service_tag, None)
        if preflight is not None:  # the runbook trusts it rather than reading it again
            job = job.model_copy(update={"preflight": preflight})
        self.running[job.host.service_tag] = job
        self.host_tasks.append(asyncio.create_task(self.run_host(job)))

    async def run_host(self, job: HostJob) -> None:
        tag = job.host.service_tag
        started = workflow.now()
        try:
            outcome = await workflow.execute_child_workflow(
                HostUpdateWorkflow.run,
                job,
                id=host_workflow_id(job.campaign_id, tag),
                task_queue=TaskQueue.CAMPAIGNS,
                # An operator terminating a cluster must not cut a host's runbook in half.
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=rollout_search_attributes(
                    job.campaign_id, self.rollout.cluster, tag
                ),
            )
        except ChildWorkflowError as error:
            # The runbook broke or was ended from outside: the host's state is unknown, so a
            # human must look.
            why = (
                "ended from outside before it finished (see the campaign's alerts)"
                if isinstance(error.cause, TerminatedError)
                else f"failed: {error.cause or error}"
            )
            outcome = HostOutcome(
                service_tag=tag,
                status=HostStatus.HELD,
                reason=f"host workflow {why}; where it stopped is unknown",
                started_at=started,
                finished_at=workflow.now(),
            )
        if self.may_requeue(outcome):
            await self.requeue(job, outcome)
        else:
            await self.finish_host(job, outcome)

    def may_requeue(self, outcome: HostOutcome) -> bool:
        tries = self.refusals.get(outcome.service_tag, 0)
        return outcome.maintenance_refused and self.queue_semantics and tries < MAX_REFUSALS

    async def requeue(self, job: HostJob, outcome: HostOutcome) -> None:
        """vCenter refused maintenance before anything changed (the cluster's capacity moved
        since preflight): back to the end of the queue with the reason, not failed."""
        tag = job.host.service_tag
        del self.running[tag]
        self.refusals[tag] = tries = self.refusals.get(tag, 0) + 1
        self.requeued[tag] = (
            f"vCenter refused maintenance: {outcome.reason} (try {tries + 1} of {MAX_REFUSALS + 1})"
        )
        self.changes += 1  # the loop may be waiting for room: there is some now
        self.refused_after[tag] = self.changes  # it goes again after the next change
        self.pending.append(job.model_copy(update={"preflight": None}))
        self.slots_requested.discard(tag)
        self.slots_granted.discard(tag)
        await asyncio.gather(
            workflow.execute_activity(
                Store.RECORD_REQUEUE,
                args=[job.campaign_id, tag, self.requeued[tag]],
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
            ),
            self.tell_campaign(
                "release_slot",
                HostSlot(cluster_workflow_id=workflow.info().workflow_id, service_tag=tag),
            ),
        )

    async def finish_host(self, job: HostJob, outcome: HostOutcome) -> None:
        # Bookkeeping first, in one step: the rollout loop wakes on it and must see the
        # host gone from `running` (capacity) and its outcome (thresholds) together.
        del self.running[job.host.service_tag]
        await self.record(job, outcome)

    async def record(self, job: HostJob, outcome: HostOutcome) -> None:
        self.requeued.pop(outcome.service_tag, None)
        self.outcomes.append(outcome)
        self.changes += 1
        failures = sum(o.counts_as_failure for o in self.outcomes)
        threshold = self.rollout.policy.cluster_failure_threshold
        if failures >= threshold:
            self.stop(f"{failures} failed host(s) reached the cluster threshold of {threshold}")
        if self.announce_hosts or workflow.patched(HOST_FINISHED_EVENTS):
            self.notifier.emit(
                EventKind.HOST_FINISHED,
                f"host {outcome.service_tag} (cluster {self.rollout.cluster}, "
                f"campaign {self.rollout.campaign_id})",
                outcome.describe(),
                discriminator=outcome.service_tag,
            )
        # The store and the campaign hear it at once: the campaign's slot is free now.
        await asyncio.gather(
            workflow.execute_activity(
                Store.RECORD_HOST_OUTCOME,
                args=[job.campaign_id, self.rollout.cluster, outcome],
                task_queue=TaskQueue.CAMPAIGNS,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
            ),
            self.tell_campaign("host_finished", outcome),
        )

    async def tell_campaign(self, signal: str, arg: object) -> None:
        """Signal the parent campaign; a standalone rollout has nobody to tell."""
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(signal, arg)

    async def return_unused_slots(self) -> None:
        started = {o.service_tag for o in self.outcomes}
        await asyncio.gather(
            *(
                self.tell_campaign(
                    "release_slot",
                    HostSlot(cluster_workflow_id=workflow.info().workflow_id, service_tag=tag),
                )
                for tag in sorted(self.slots_granted - started)
            )
        )

    # ---- waiting -----------------------------------------------------------------------

    async def clock(self) -> datetime:
        """The time every decision of the rollout is made on, recorded in history so that a
        replay decides exactly as the live run did. ``workflow.now()`` is not enough: after
        a cold worker picked up a workflow that had been queried while no worker ran, the
        live value lagged the history's (docs/temporal-now-after-cold-query.md) and a
        decision on it wedged a rollout for good."""
        if not workflow.patched(RECORDED_CLOCK):
            return workflow.now()
        return await workflow.execute_local_activity(
            Supervise.READ_CLOCK, result_type=datetime, start_to_close_timeout=timedelta(seconds=10)
        )

    async def wait_for_change(
        self, at_most: timedelta | None = None, changes: int | None = None
    ) -> None:
        """Until a host finishes or goes back to the queue (after the first ``changes``:
        default, the ones known now), or an operator pauses or stops (or ``at_most``
        passes)."""
        changes = self.changes if changes is None else changes
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.changes != changes or self.paused or self.stop_reason is not None,
                timeout=at_most,
            )
