"""A campaign's step bars and plan, read from Temporal history rather than remembered.

Every API process (and replica) draws the same bars, before and after a restart, because
they come from what Temporal recorded: each activity of a host's runbook
(``campaign-{id}-host-{TAG}``) from its scheduling to its close, mapped to the runbook step
it belongs to; the host's preflight read while it waited in its queue comes from the
cluster rollout (``campaign-{id}-cluster-{name}``, every run of it). The rollout's inputs
also give the plan the predicted end needs: each host's estimate, the queue's order and the
cluster's windows.

A closed history never changes, so closed runs are kept (bounded); running ones are read
again at most every ``REFRESH_S``, however many pages or tabs are watching.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.names import Redfish, Vcenter
from domain.runbook import ClusterRollout, HostJob, HostStep
from domain.temporal_names import cluster_workflow_id, host_workflow_id

REFRESH_S = 2.0  # a running workflow's history is read again after this long
KEEP_CLOSED = 4096  # closed runs kept in memory (a cache: Temporal has them all)
MAX_RUNS = 50  # a cluster rollout's continue-as-new chain followed this far back
CONCURRENT_READS = 8  # history reads in flight at once, per campaign snapshot
READ_TIMEOUT = timedelta(seconds=5)
# Two activities of one step one workflow task apart (exit maintenance, then the VMs back)
# draw one bar; further apart, two (a preflight read again after a long wait).
MERGE_GAP = timedelta(seconds=2)

STEP_OF: dict[str, HostStep] = {
    Redfish.PREFLIGHT: HostStep.PREFLIGHT,
    Vcenter.PREFLIGHT: HostStep.PREFLIGHT,
    Vcenter.ENTER_MAINTENANCE: HostStep.ENTER_MAINTENANCE,
    Redfish.STAGE_FIRMWARE: HostStep.STAGE_FIRMWARE,
    Redfish.REBOOT_HOST: HostStep.REBOOT,
    Redfish.VERIFY_FIRMWARE: HostStep.VERIFY,
    Vcenter.WAIT_RECONNECTED: HostStep.WAIT_RECONNECT,
    Redfish.HEALTH: HostStep.POST_HEALTH,
    Vcenter.EXIT_MAINTENANCE: HostStep.EXIT_MAINTENANCE,
    Vcenter.RETURN_VMS: HostStep.EXIT_MAINTENANCE,
    Redfish.ROLLBACK_FIRMWARE: HostStep.COMPENSATE,
    Redfish.READ_FIRMWARE: HostStep.COMPENSATE,
}
PREFLIGHTS = {Redfish.PREFLIGHT.value, Vcenter.PREFLIGHT.value}
ORDER = {step.value: index for index, step in enumerate(HostStep)}
_CLOSES = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}
_FAILED = {EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT}
_WORKFLOW_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


@dataclass(frozen=True)
class Interval:
    step: str
    start: datetime
    end: datetime | None  # None: still running


@dataclass(frozen=True)
class Bar:
    step: str
    start: datetime
    end: datetime | None
    track: int = 0  # steps run at once (e.g. verify + wait_reconnect) share the row
    tracks: int = 1


@dataclass(frozen=True)
class Activity:
    """One activity as history has it: scheduled, and closed (or not yet)."""

    name: str
    scheduled: datetime
    closed: datetime | None
    failed: bool
    event_id: int
    input: Any = None  # the raw payloads, decoded only where needed


def when(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def activities(events: Sequence[HistoryEvent]) -> list[Activity]:
    """Every activity in a history with its times; those still open at a workflow's close
    end with it."""
    scheduled: dict[int, HistoryEvent] = {}
    closes: dict[int, HistoryEvent] = {}
    ended: datetime | None = None
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event
        elif event.event_type in _CLOSES:
            attrs = getattr(event, _CLOSES[event.event_type])
            closes[attrs.scheduled_event_id] = event
        elif event.event_type in _WORKFLOW_CLOSED:
            ended = when(event)
    found = []
    for event_id, event in scheduled.items():
        attrs = event.activity_task_scheduled_event_attributes
        close = closes.get(event_id)
        found.append(
            Activity(
                name=attrs.activity_type.name,
                scheduled=when(event),
                closed=when(close) if close else ended,
                failed=close is not None and close.event_type in _FAILED,
                event_id=event_id,
                input=attrs.input,
            )
        )
    return found


def runbook_intervals(events: Sequence[HistoryEvent]) -> list[Interval]:
    """A host runbook's activities as step intervals; once a step failed, what runs after
    it is the compensation (the same health check or maintenance exit undoes, not updates)."""
    found = activities(events)
    failed_at = min((a.closed for a in found if a.failed and a.closed), default=None)
    intervals = []
    for item in found:
        step = STEP_OF.get(item.name)
        if step is None:
            continue  # bookkeeping (alerts), not a runbook step
        if failed_at is not None and item.scheduled > failed_at:
            step = HostStep.COMPENSATE
        intervals.append(Interval(step.value, item.scheduled, item.closed))
    return intervals


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    by_step: dict[str, list[Interval]] = {}
    for item in sorted(intervals, key=lambda i: i.start):
        runs = by_step.setdefault(item.step, [])
        last = runs[-1] if runs else None
        if last is not None and (last.end is None or item.start <= last.end + MERGE_GAP):
            end = None if last.end is None or item.end is None else max(last.end, item.end)
            runs[-1] = Interval(item.step, last.start, end)
        else:
            runs.append(item)
    return [item for runs in by_step.values() for item in runs]


def lay_out(intervals: Iterable[Interval]) -> list[Bar]:
    """One bar per step run (pieces of one step merged); overlapping bars share the row in
    tracks, as many as ran at once in that stretch."""
    items = sorted(_merged(intervals), key=lambda i: (i.start, ORDER.get(i.step, len(ORDER))))
    bars: list[Bar] = []
    group: list[tuple[Interval, int]] = []
    lanes: list[datetime | None] = []  # each track's end; None: open

    def flush() -> None:
        bars.extend(Bar(i.step, i.start, i.end, track, len(lanes)) for i, track in group)

    for item in items:
        if lanes and all(end is not None and end <= item.start for end in lanes):
            flush()
            group, lanes = [], []
        free = [n for n, end in enumerate(lanes) if end is not None and end <= item.start]
        track = free[0] if free else len(lanes)
        if track == len(lanes):
            lanes.append(item.end)
        else:
            lanes[track] = item.end
        group.append((item, track))
    flush()
    return bars


@dataclass(frozen=True)
class Run:
    """What one workflow run's history says, as far as the timeline cares."""

    closed: bool
    started: datetime | None = None
    intervals: dict[str, list[Interval]] = field(default_factory=dict)  # service tag -> ...
    rollout: ClusterRollout | None = None  # a cluster run's input
    job: HostJob | None = None  # a host run's input
    previous_run: str | None = None  # the run this one continued
    continued: bool = False  # closed by continuing as new: a later run follows


@dataclass(frozen=True)
class CampaignHistory:
    bars: dict[str, list[Bar]]  # service tag -> its steps' bars
    started: dict[str, datetime]  # service tag -> when its runbook started
    estimates: dict[str, timedelta]  # service tag -> the plan's estimated duration
    rollouts: dict[str, ClusterRollout]  # cluster -> its first run's input (the whole queue)
    current: dict[str, ClusterRollout]  # cluster -> its latest run's input (windows, policy)


class HistoryReader:
    """Reads and caches runs' histories for one API process (a cache of Temporal's record:
    losing it loses nothing)."""

    def __init__(self) -> None:
        self.closed: OrderedDict[str, Run] = OrderedDict()
        self.recent: dict[str, tuple[float, Run]] = {}

    async def campaign(
        self,
        client: Client,
        campaign_id: int,
        clusters: Iterable[str],
        tags: Iterable[str],
        ended: Iterable[str] = (),
    ) -> CampaignHistory:
        """The bars of ``tags`` (hosts started or ended; ``ended``: those with an outcome,
        whose closed runbook no later run follows) and the plans of ``clusters``."""
        gate = asyncio.Semaphore(CONCURRENT_READS)
        names, hosts, done = sorted(set(clusters)), sorted(set(tags)), set(ended)
        chains = await asyncio.gather(
            *(self._chain(client, cluster_workflow_id(campaign_id, n), gate) for n in names)
        )
        runs = await asyncio.gather(
            *(
                self._run(client, host_workflow_id(campaign_id, t), None, gate, t in done)
                for t in hosts
            )
        )
        intervals: dict[str, list[Interval]] = {}
        estimates: dict[str, timedelta] = {}
        rollouts, current = {}, {}
        for name, chain in zip(names, chains, strict=True):
            inputs = [run.rollout for run in chain if run.rollout is not None]
            if inputs:
                rollouts[name], current[name] = inputs[-1], inputs[0]
            for rollout in inputs:
                for job in rollout.hosts:
                    estimates[job.host.service_tag] = timedelta(seconds=job.estimated_duration_s)
            for run in chain:
                for tag, found in run.intervals.items():
                    intervals.setdefault(tag, []).extend(found)
        started = {}
        for tag, run in zip(hosts, runs, strict=True):
            intervals.setdefault(tag, []).extend(run.intervals.get(tag, []))
            if run.started is not None:
                started[tag] = run.started
            if run.job is not None:
                estimates[tag] = timedelta(seconds=run.job.estimated_duration_s)
        bars = {tag: lay_out(found) for tag, found in intervals.items() if found}
        return CampaignHistory(bars, started, estimates, rollouts, current)

    async def _chain(self, client: Client, workflow_id: str, gate: asyncio.Semaphore) -> list[Run]:
        """A cluster rollout's runs, latest first (continue-as-new keeps its history short)."""
        chain = [await self._run(client, workflow_id, None, gate, final=True)]
        while chain[-1].previous_run and len(chain) < MAX_RUNS:
            chain.append(await self._run(client, workflow_id, chain[-1].previous_run, gate))
        return chain

    async def _run(
        self,
        client: Client,
        workflow_id: str,
        run_id: str | None,
        gate: asyncio.Semaphore,
        final: bool = False,
    ) -> Run:
        """One run, latest if ``run_id`` is None; ``final``: once the latest run is closed
        no other follows it (a cluster rollout; a host with its outcome recorded)."""
        key = f"{workflow_id}@{run_id or 'latest'}"
        if key in self.closed:
            self.closed.move_to_end(key)
            return self.closed[key]
        cached = self.recent.get(key)
        if cached is not None and time.monotonic() - cached[0] < REFRESH_S:
            return cached[1]
        async with gate:
            run = await _read(client, workflow_id, run_id)
        # A host's latest run may still be followed by another (queued again after vCenter
        # refused it), so it is kept for good only once final.
        if run.closed and (run_id is not None or (final and not run.continued)):
            self.closed[key] = run
            while len(self.closed) > KEEP_CLOSED:
                self.closed.popitem(last=False)
        else:
            now = time.monotonic()
            self.recent = {k: v for k, v in self.recent.items() if now - v[0] < 60 * REFRESH_S}
            self.recent[key] = (now, run)
        return run


async def _read(client: Client, workflow_id: str, run_id: str | None) -> Run:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        history = await handle.fetch_history(rpc_timeout=READ_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # never started, or past retention
            return Run(closed=True)
        raise
    events = list(history.events)
    if not events:
        return Run(closed=True)
    first = events[0]
    attrs = first.workflow_execution_started_event_attributes
    started = when(first)
    last = events[-1].event_type
    closed = last in _WORKFLOW_CLOSED
    continued = last == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    previous = attrs.continued_execution_run_id or None
    payloads = list(attrs.input.payloads)
    if "-cluster-" in workflow_id:
        (rollout,) = await client.data_converter.decode(payloads, [ClusterRollout])
        intervals = await _preflights(client, events)
        return Run(closed, started, intervals, rollout, None, previous, continued)
    (job,) = await client.data_converter.decode(payloads, [HostJob])
    tag = job.host.service_tag
    return Run(closed, started, {tag: runbook_intervals(events)}, None, job, previous, continued)


async def _preflights(client: Client, events: Sequence[HistoryEvent]) -> dict[str, list[Interval]]:
    """The preflights a cluster rollout ran for hosts waiting in its queue, by service tag
    (the host is named in the activity's input)."""
    found: dict[str, list[Interval]] = {}
    for item in activities(events):
        if item.name not in PREFLIGHTS:
            continue
        (request,) = await client.data_converter.decode(list(item.input.payloads))
        tag = str(request["host"]["service_tag"])
        span = Interval(HostStep.PREFLIGHT.value, item.scheduled, item.closed)
        found.setdefault(tag, []).append(span)
    return found
