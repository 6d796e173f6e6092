"""Aimed worker kills: a seeded schedule says which runbook step each kill -9 must land in;
a probe watches the campaign's workflows in Temporal and the kill happens only when a host
(or a cluster) is in that step ON the running worker process, and the record says whether
the kill really interrupted it. Shared by the crash test and benchmarks/crash_campaign.py.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus

from activities.names import Redfish, Vcenter
from domain.runbook import HostStep
from tests.integration.campaign.processes import WorkerProcess

PROBE_EVERY_S = 0.03
RPC_TIMEOUT = timedelta(seconds=2)
QUERY_TIMEOUT = timedelta(seconds=1)  # a worker still starting does not hold the probe up
WAIT_QUERY_EVERY_S = 0.25


class Target(StrEnum):
    """Where a kill can land: each step of the host runbook, and the cluster's two waits."""

    PREFLIGHT = HostStep.PREFLIGHT.value
    ENTER_MAINTENANCE = HostStep.ENTER_MAINTENANCE.value
    STAGE_FIRMWARE = HostStep.STAGE_FIRMWARE.value
    REBOOT = HostStep.REBOOT.value
    VERIFY = HostStep.VERIFY.value
    WAIT_RECONNECT = HostStep.WAIT_RECONNECT.value
    POST_HEALTH = HostStep.POST_HEALTH.value
    EXIT_MAINTENANCE = HostStep.EXIT_MAINTENANCE.value
    CAPACITY_WAIT = "capacity_wait"
    SLOT_WAIT = "slot_wait"


ACTIVITY_TARGETS: dict[str, Target] = {
    Redfish.PREFLIGHT: Target.PREFLIGHT,
    Vcenter.PREFLIGHT: Target.PREFLIGHT,
    Vcenter.ENTER_MAINTENANCE: Target.ENTER_MAINTENANCE,
    Redfish.STAGE_FIRMWARE: Target.STAGE_FIRMWARE,
    Redfish.REBOOT_HOST: Target.REBOOT,
    Redfish.VERIFY_FIRMWARE: Target.VERIFY,
    Vcenter.WAIT_RECONNECTED: Target.WAIT_RECONNECT,
    Redfish.HEALTH: Target.POST_HEALTH,  # also compensation's check: confirmed by query
    Vcenter.EXIT_MAINTENANCE: Target.EXIT_MAINTENANCE,
    Vcenter.RETURN_VMS: Target.EXIT_MAINTENANCE,  # part of the exit step
    Vcenter.CAPACITY: Target.CAPACITY_WAIT,
}
SLOT_REASON = "waiting for a campaign-wide host slot"
CAPACITY_REASONS = ("cluster capacity", "hosts updating, the policy allows")


@dataclass(frozen=True)
class Sighting:
    """A step in progress on the live worker: an activity attempt it runs, or a wait."""

    target: Target
    workflow_id: str
    history_length: int
    activity_id: str | None = None
    attempt: int = 0


@dataclass(frozen=True)
class Look:
    """What the probe saw at one moment."""

    sightings: list[Sighting]
    # Activities pending in their last allowed attempt, started or about to be (a worker
    # picks a scheduled one up within milliseconds): a kill, or the server's outage, would
    # fail the step for good. The schedule spares them (the retry budget is a policy of
    # its own).
    last_attempts: list[str]


@dataclass(frozen=True)
class Kill:
    """One kill -9 of the worker: where it was aimed and whether it interrupted that step."""

    at_s: float  # since the campaign started
    target: Target | None  # None: the worker had exited by itself (restarted, not a kill)
    workflow_id: str | None
    activity_id: str | None
    attempt: int
    confirmed: bool
    restart_delay_s: float
    worker_age_s: float  # how long the killed worker had run


@dataclass
class KillSchedule:
    """Seeded: which steps to hit (each at least ``per_step`` times, ``kills`` in all), in
    which order, and how long the worker stays down after each kill."""

    seed: int
    kills: int
    per_step: int = 2
    restart_delay_s: tuple[float, float] = (0.1, 0.8)
    dwell_s: float = 0.1  # a kill lands up to this long after the step is seen...
    # ...except in a reboot (~14 s here): anywhere in its first seconds, after the power
    # action as often as before it, so that a retry finds the host still in POST.
    reboot_dwell_s: float = 5.0
    rng: random.Random = field(init=False)
    order: list[Target] = field(init=False)
    hits: Counter[Target] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        steps = list(Target)
        wanted = [step for step in steps for _ in range(self.per_step)] if self.kills else []
        wanted += [self.rng.choice(steps) for _ in range(max(0, self.kills - len(wanted)))]
        self.rng.shuffle(wanted)
        self.order = wanted
        # Once, at a seeded point in the middle of the run, the Temporal server dies too.
        self.server_crash_after = self.rng.randint(self.kills // 3, max(1, 2 * self.kills // 3))

    @property
    def done(self) -> bool:
        return not self.order

    def choose(
        self, seen: list[Sighting], hits_per_workflow: Counter[str], patient: bool
    ) -> Sighting | None:
        """The first step of the order that is in progress now; while some step is below
        its minimum and we are PATIENT, only such a step (the others leave hosts alone to
        reach the late steps). Of its sightings, a first attempt rather than a retry, then
        the least-hit workflow: each kill interrupts a step that had not been interrupted
        yet, and its retry runs undisturbed more often (kills do not pile onto one host)."""
        owed = [t for t in self.order if self.hits[t] < self.per_step]
        for target in owed if owed and patient else self.order:
            found = [s for s in seen if s.target == target]
            if found:

                def rank(s: Sighting) -> tuple[int, int]:
                    return (s.attempt, hits_per_workflow[s.workflow_id])

                best = min(map(rank, found))
                return self.rng.choice([s for s in found if rank(s) == best])
        return None

    def dwell(self, target: Target) -> float:
        longest = self.reboot_dwell_s if target is Target.REBOOT else self.dwell_s
        return self.rng.uniform(0, longest)

    def record(self, target: Target, confirmed: bool) -> None:
        """A confirmed hit is done; a near miss keeps its step in the order."""
        if confirmed:
            self.hits[target] += 1
            self.order.remove(target)


def last_attempts(running: list[WorkflowExecutionDescription]) -> list[str]:
    return [
        f"{d.id} {a.activity_type.name}"
        for d in running
        for a in d.raw_description.pending_activities
        if a.maximum_attempts
        and a.attempt >= a.maximum_attempts
        and a.state
        in (
            PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
            PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        )
    ]


class StepProbe:
    """Reads, from Temporal, what the campaign's clusters and hosts are doing right now."""

    def __init__(self, client: Client, campaign_workflow_id: str, clusters: list[str]) -> None:
        self.client = client
        self.cluster_ids = [f"{campaign_workflow_id}-cluster-{name}" for name in clusters]
        self.next_wait_query = 0.0
        self.waits: list[Sighting] = []  # as the last answered queries said
        self._asking: asyncio.Future[list[Sighting]] | None = None

    async def _describe(self, workflow_id: str) -> WorkflowExecutionDescription | None:
        try:
            handle = self.client.get_workflow_handle(workflow_id)
            description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        except Exception:  # not started yet, or Temporal restarting: nothing to see
            return None
        return description if description.status == WorkflowExecutionStatus.RUNNING else None

    async def _query(self, workflow_id: str, name: str) -> object:
        try:
            handle = self.client.get_workflow_handle(workflow_id)
            return await handle.query(name, rpc_timeout=QUERY_TIMEOUT)
        except Exception:
            return None

    async def look(self, worker: WorkerProcess) -> Look:
        """Activity attempts the live worker runs (from describes: fast enough for steps of
        a fraction of a second), and the clusters' waits, which only a query can tell: those
        are asked in the background every WAIT_QUERY_EVERY_S, never holding the look up."""
        clusters = [d for d in await asyncio.gather(*map(self._describe, self.cluster_ids)) if d]
        self._ask_waits(clusters, worker)
        host_ids = [c.workflow_id for d in clusters for c in d.raw_description.pending_children]
        hosts = await asyncio.gather(*map(self._describe, host_ids))
        running = [d for d in [*clusters, *hosts] if d is not None]
        found = await asyncio.gather(*(self._activities(d, worker) for d in running))
        return Look(
            [s for group in found for s in group] + self.waits,
            last_attempts(running),
        )

    async def last_attempts_now(self) -> list[str]:
        """The last attempts pending right now (a full look, without the waits)."""
        clusters = [d for d in await asyncio.gather(*map(self._describe, self.cluster_ids)) if d]
        host_ids = [c.workflow_id for d in clusters for c in d.raw_description.pending_children]
        hosts = [d for d in await asyncio.gather(*map(self._describe, host_ids)) if d]
        return last_attempts([*clusters, *hosts])

    def _ask_waits(
        self, clusters: list[WorkflowExecutionDescription], worker: WorkerProcess
    ) -> None:
        if self._asking is not None and not self._asking.done():
            return
        if self._asking is not None:
            self.waits = self._asking.result()
            self._asking = None
        if worker.alive and time.monotonic() >= self.next_wait_query:
            self.next_wait_query = time.monotonic() + WAIT_QUERY_EVERY_S
            idle = [d for d in clusters if not d.raw_description.pending_activities]
            self._asking = asyncio.ensure_future(self._all_waits(idle))

    def forget_waits(self) -> None:
        """After a kill: what the dead worker said about waits no longer counts; only a
        query the next worker answers can aim a kill at a wait."""
        if self._asking is not None:
            self._asking.cancel()
            self._asking = None
        self.waits = []

    async def _all_waits(self, idle: list[WorkflowExecutionDescription]) -> list[Sighting]:
        found = await asyncio.gather(*map(self._waits, idle))
        return [s for group in found for s in group]

    async def _activities(
        self, description: WorkflowExecutionDescription, worker: WorkerProcess
    ) -> list[Sighting]:
        found = []
        length = description.raw_description.workflow_execution_info.history_length
        for activity in description.raw_description.pending_activities:
            target = ACTIVITY_TARGETS.get(activity.activity_type.name)
            if (
                target is None
                or activity.state != PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                or not worker.identity_pid(activity.last_worker_identity)
            ):
                continue
            if target is Target.POST_HEALTH and not await self._in_post_health(description):
                continue  # the health check of a compensation, not the runbook's step
            found.append(
                Sighting(target, description.id, length, activity.activity_id, activity.attempt)
            )
        return found

    async def _in_post_health(self, description: WorkflowExecutionDescription) -> bool:
        """The runbook checks health together with verify and the reconnect wait; alone, it
        may be a compensation's check: then ask the host (slower, so only then)."""
        pending = {a.activity_type.name for a in description.raw_description.pending_activities}
        if pending & {Redfish.VERIFY_FIRMWARE, Vcenter.WAIT_RECONNECTED}:
            return True
        step = await self._query(description.id, "current_step")
        return isinstance(step, str) and HostStep.POST_HEALTH.value in step

    async def _waits(self, description: WorkflowExecutionDescription) -> list[Sighting]:
        status = await self._query(description.id, "status")
        reason = status.get("waiting_reason") if isinstance(status, dict) else None
        length = description.raw_description.workflow_execution_info.history_length
        if reason == SLOT_REASON:
            return [Sighting(Target.SLOT_WAIT, description.id, length)]
        if reason and any(r in reason for r in CAPACITY_REASONS):
            return [Sighting(Target.CAPACITY_WAIT, description.id, length)]
        return []

    async def still_there(self, sighting: Sighting) -> bool:
        """Is the step still in progress: just before a kill (aim), and just after it (did
        the kill interrupt it?). An activity: the same attempt still pending. A wait:
        nothing happened since."""
        try:
            handle = self.client.get_workflow_handle(sighting.workflow_id)
            raw = (await handle.describe(rpc_timeout=RPC_TIMEOUT)).raw_description
        except Exception:
            return False
        if sighting.activity_id is None:
            return raw.workflow_execution_info.history_length == sighting.history_length
        return any(
            a.activity_id == sighting.activity_id and a.attempt == sighting.attempt
            for a in raw.pending_activities
        )
