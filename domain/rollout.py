"""The rollout plan: which hosts get which components, in what order, and for how long.

A dry run an operator reads before starting a campaign (``idrac-orch campaign plan``), built
from inventory and the firmware target with no I/O. The input types are small and ours; the
caller maps the campaign spec and the stored inventory onto them.

Rules (see docs/domain.md):
- A host needs a component when any installed instance of that component id differs from
  the target version (Dell's own rule, reference §9: update when versions differ). Hosts
  that need nothing are listed as skipped, with the reason.
- Order inside a cluster: ``fewest_vms`` (default) puts hosts with the fewest VMs first,
  then by name: the first hosts prove the firmware with the least to evacuate and the
  smallest blast radius. ``as_listed`` keeps the operator's order.
- Schedule: clusters roll in parallel from ``now``. A host starts as soon as its cluster has
  fewer than ``max_concurrent`` hosts in flight, the whole campaign fewer than
  ``global_max_concurrent``, and it fits the maintenance windows (``windows.wait_reason``:
  it can finish before the window closes); otherwise its cluster waits for the next window
  long enough for it. When the global cap is the limit, the next free slot goes to the
  cluster with the most estimated work left per allowed slot (the critical path), ties by
  cluster order. A wave is the set of a cluster's hosts planned to start together.
- A host that fits no window within the look-ahead is listed as blocked, with the reason,
  and its cluster goes on with the next host.
- Times are offsets from ``now`` and include the waits for windows; the makespan is when
  the last host is planned to finish.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, deque
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.components import FACTS, ComponentKind, classify
from domain.estimates import HostEstimate, estimate_host, history_key
from domain.windows import (
    Window,
    describe,
    format_duration,
    next_open,
    require_aware,
    show_local,
    wait_reason,
)

ComponentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
Name = Annotated[str, Field(min_length=1, max_length=255)]
Order = Literal["fewest_vms", "as_listed"]

ORDER_TEXT = {
    "fewest_vms": "fewest VMs first, then host name",
    "as_listed": "as listed by the operator",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- Input


class InstalledComponent(_Frozen):
    """One FirmwareInventory entry; a component id may appear once per device (two NICs)."""

    component_id: ComponentId
    version: str = Field(min_length=1)
    name: str = ""


class HostInventory(_Frozen):
    name: Name
    service_tag: str = Field(min_length=1, max_length=32)
    model: str = Field(default="", description="Server model, e.g. PowerEdge R650 (history key)")
    vm_count: int = Field(default=0, ge=0)
    components: list[InstalledComponent] = Field(default_factory=list)


class ClusterInventory(_Frozen):
    name: Name
    max_concurrent: int = Field(ge=1, description="Hosts of this cluster allowed down at once")
    hosts: list[HostInventory]
    windows: list[Window] | None = Field(
        default=None,
        description="The windows that gate this cluster (domain/site_windows.py); "
        "None: the request's",
    )
    site_timezone: str | None = Field(
        default=None, description="The site's IANA zone, to show window openings locally"
    )


class PlanRequest(_Frozen):
    clusters: list[ClusterInventory] = Field(min_length=1)
    target: dict[ComponentId, Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="component id -> target version"
    )
    global_max_concurrent: int = Field(ge=1)
    order: Order = "fewest_vms"
    history: dict[str, list[timedelta]] = Field(
        default_factory=dict,
        description="history_key(model, component ids) -> past host durations",
    )
    windows: list[Window] = Field(
        default_factory=list, description="Maintenance windows; empty: any time"
    )

    @field_validator("clusters")
    @classmethod
    def _unique_names(cls, clusters: list[ClusterInventory]) -> list[ClusterInventory]:
        for label, values in (
            ("cluster names", [c.name for c in clusters]),
            ("host names", [h.name for c in clusters for h in c.hosts]),
            ("service tags", [h.service_tag for c in clusters for h in c.hosts]),
        ):
            repeated = sorted(v for v, n in Counter(values).items() if n > 1)
            if repeated:
                raise ValueError(f"{label} must be unique; repeated: {', '.join(repeated)}")
        return clusters

    @field_validator("history")
    @classmethod
    def _positive_history(cls, history: dict[str, list[timedelta]]) -> dict[str, list[timedelta]]:
        for key, samples in history.items():
            if any(sample <= timedelta(0) for sample in samples):
                raise ValueError(f"{key!r}: past durations must be positive")
        return history


# --- Output


class ComponentChange(_Frozen):
    component_id: str
    label: str
    kind: ComponentKind
    current: list[str]
    target: str
    downgrade: bool

    def render(self) -> str:
        note = "  (downgrade)" if self.downgrade else ""
        return (
            f"{self.label} ({self.component_id}): {', '.join(self.current)} -> {self.target}{note}"
        )


class PlannedHost(_Frozen):
    cluster: str
    name: str
    service_tag: str
    vm_count: int
    changes: list[ComponentChange]
    estimate: HostEstimate
    wave: int = Field(ge=1)
    start: timedelta
    end: timedelta


class SkippedHost(_Frozen):
    cluster: str
    name: str
    service_tag: str
    reason: str


class BlockedHost(SkippedHost):
    """Needs an update but is longer than every window: the operator must add a window."""

    estimate: HostEstimate


class ClusterPlan(_Frozen):
    name: str
    max_concurrent: int
    hosts: list[PlannedHost]
    skipped: list[SkippedHost]
    blocked: list[BlockedHost]
    waves: int
    finish: timedelta
    windows: list[Window] = Field(default_factory=list, description="empty: any time")
    opens_at: datetime | None = Field(description="when a window next opens; None: never")
    site_timezone: str | None = None

    def render_windows(self) -> list[str]:
        if not self.windows:
            return ["  windows: none, any time"]
        shown = [f"  window: {describe(window)}" for window in self.windows]
        if self.opens_at is None:
            return [*shown, "  next opening: none (no window opens again)"]
        local = f"{show_local(self.opens_at, self.site_timezone)} = " if self.site_timezone else ""
        return [*shown, f"  next opening: {local}{_stamp(self.opens_at)} UTC"]


class RolloutPlan(_Frozen):
    clusters: list[ClusterPlan]
    global_max_concurrent: int
    order: Order
    now: datetime
    windowed: bool
    makespan: timedelta

    @property
    def hosts(self) -> list[PlannedHost]:
        return [h for c in self.clusters for h in c.hosts]

    @property
    def skipped(self) -> list[SkippedHost]:
        return [s for c in self.clusters for s in c.skipped]

    @property
    def blocked(self) -> list[BlockedHost]:
        return [s for c in self.clusters for s in c.blocked]

    def render_text(self) -> str:
        """The dry run as the CLI prints it."""
        waits = (
            "includes waiting for maintenance windows"
            if self.windowed
            else "no maintenance windows: straight through"
        )
        lines = [
            "Rollout plan (dry run, times in UTC)",
            f"  {len(self.hosts)} hosts to update in {len(self.clusters)} clusters, "
            f"{len(self.skipped)} skipped, {len(self.blocked)} blocked; "
            f"at most {self.global_max_concurrent} hosts at once",
            f"  order within a cluster: {ORDER_TEXT[self.order]}",
            f"  from {_stamp(_minute(self.now))}: estimated makespan "
            f"{format_duration(self.makespan, up=True)}, done by "
            f"{_stamp(_minute(self.now + self.makespan))} ({waits})",
        ]
        for cluster in self.clusters:
            lines += [
                "",
                f"cluster {cluster.name}: {len(cluster.hosts)} to update, "
                f"up to {cluster.max_concurrent} at once, {_count(cluster.waves, 'wave')}, "
                f"done after {format_duration(cluster.finish, up=True)}",
                *cluster.render_windows(),
            ]
            for host in cluster.hosts:
                reboot = "host reboot" if host.estimate.host_reboot else "no host reboot"
                lines.append(
                    f"  wave {host.wave:<3} {self._period(host)}  "
                    f"{host.name} [{host.service_tag}] {_count(host.vm_count, 'VM')}, "
                    f"{format_duration(host.estimate.total, up=True)} ({reboot}; "
                    f"{host.estimate.basis})"
                )
                lines += [f"      {change.render()}" for change in host.changes]
            lines += [f"  blocked  {b.name} [{b.service_tag}]: {b.reason}" for b in cluster.blocked]
            lines += [f"  skipped  {s.name} [{s.service_tag}]: {s.reason}" for s in cluster.skipped]
        return "\n".join(lines)

    def _period(self, host: PlannedHost) -> str:
        """'Sat 2026-11-28 01:00 -> 01:57', with the end's date only when it differs."""
        start, end = _minute(self.now + host.start), _minute(self.now + host.end)
        shown_end = f"{end:%H:%M}" if end.date() == start.date() else _stamp(end)
        return f"{_stamp(start)} -> {shown_end}"


def _minute(instant: datetime) -> datetime:
    """Shown to the minute, rounded up like the durations (a plan never looks early)."""
    floor = instant.replace(second=0, microsecond=0)
    return floor if floor == instant else floor + timedelta(minutes=1)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _stamp(instant: datetime) -> str:
    """'Sat 2026-11-28 01:00', in English whatever the process locale (strftime's %a is not)."""
    return f"{_DAYS[instant.weekday()]} {instant:%Y-%m-%d %H:%M}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- Planning


def _version_key(version: str) -> tuple[int, ...] | None:
    parts = re.split(r"[.\-]", version.strip())
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _is_downgrade(current: list[str], target: str) -> bool:
    """Only when every version parses as dotted numbers; otherwise we cannot tell."""
    goal = _version_key(target)
    keys = [_version_key(v) for v in current]
    return goal is not None and all(k is not None and k > goal for k in keys)


def _changes(host: HostInventory, target: dict[str, str]) -> tuple[list[ComponentChange], str]:
    """What the host needs, or why it needs nothing."""
    changes, at_target, absent = [], [], []
    for component_id, version in target.items():
        installed = [c for c in host.components if c.component_id == component_id]
        name = next((c.name for c in installed if c.name), "")
        kind = classify(component_id, name)
        label = FACTS[kind].label if kind is not ComponentKind.OTHER else name or "component"
        if not installed:
            absent.append(component_id)
        elif all(c.version == version for c in installed):
            at_target.append(f"{label} ({component_id}) {version}")
        else:
            current = sorted({c.version for c in installed if c.version != version})
            changes.append(
                ComponentChange(
                    component_id=component_id,
                    label=label,
                    kind=kind,
                    current=current,
                    target=version,
                    downgrade=_is_downgrade(current, version),
                )
            )
    if not host.components:
        return changes, "no firmware inventory: collect the host's inventory, then plan again"
    reasons = []
    if at_target:
        reasons.append(f"compliant: {', '.join(at_target)} already at target")
    if absent:
        reasons.append(f"not installed: {', '.join(absent)}")
    return changes, "; ".join(reasons)


def _ordered(hosts: list[HostInventory], order: Order) -> list[HostInventory]:
    if order == "as_listed":
        return list(hosts)
    return sorted(hosts, key=lambda h: (h.vm_count, h.name))


class _Pending(BaseModel):
    """A host chosen for update, before the schedule gives it a wave and times."""

    model_config = ConfigDict(frozen=True)

    host: HostInventory
    changes: list[ComponentChange]
    estimate: HostEstimate


def _skip(cluster: str, host: HostInventory, reason: str) -> SkippedHost:
    return SkippedHost(cluster=cluster, name=host.name, service_tag=host.service_tag, reason=reason)


def plan_rollout(request: PlanRequest, now: datetime) -> RolloutPlan:
    """Build the dry-run plan starting at ``now`` (rules in the module doc). Deterministic."""
    now = require_aware(now)
    queues: list[deque[_Pending]] = []
    skipped: list[list[SkippedHost]] = []
    for cluster in request.clusters:
        queue: deque[_Pending] = deque()
        passed: list[SkippedHost] = []
        for host in _ordered(cluster.hosts, request.order):
            changes, reason = _changes(host, request.target)
            if not changes:
                passed.append(_skip(cluster.name, host, reason))
                continue
            ids = [c.component_id for c in changes]
            estimate = estimate_host(
                [c.kind for c in changes],
                host.vm_count,
                request.history.get(history_key(host.model, ids), ()),
            )
            queue.append(_Pending(host=host, changes=changes, estimate=estimate))
        queues.append(queue)
        skipped.append(passed)
    planned, blocked = _Scheduler(request, now, queues).run()
    clusters = [
        ClusterPlan(
            name=cluster.name,
            max_concurrent=cluster.max_concurrent,
            hosts=hosts,
            skipped=passed,
            blocked=stuck,
            waves=max((h.wave for h in hosts), default=0),
            finish=max((h.end for h in hosts), default=timedelta(0)),
            windows=_windows(request, cluster),
            opens_at=next_open(_windows(request, cluster), now),
            site_timezone=cluster.site_timezone,
        )
        for cluster, hosts, passed, stuck in zip(
            request.clusters, planned, skipped, blocked, strict=True
        )
    ]
    return RolloutPlan(
        clusters=clusters,
        global_max_concurrent=request.global_max_concurrent,
        order=request.order,
        now=now,
        windowed=any(_windows(request, c) for c in request.clusters),
        makespan=max((c.finish for c in clusters), default=timedelta(0)),
    )


def _windows(request: PlanRequest, cluster: ClusterInventory) -> list[Window]:
    return request.windows if cluster.windows is None else cluster.windows


class _Scheduler:
    """Event-driven list scheduling under both caps and the windows (rules in the module doc).

    Time is an offset from ``now``. Events are host completions and the instants a cluster's
    next host fits a window again.
    """

    def __init__(self, request: PlanRequest, now: datetime, queues: list[deque[_Pending]]):
        self.request, self.now, self.queues = request, now, queues
        self.caps = [c.max_concurrent for c in request.clusters]
        self.work = [sum((p.estimate.total for p in q), timedelta(0)) for q in queues]
        self.in_flight = [0] * len(queues)
        self.waves = [0] * len(queues)
        self.last_start: list[timedelta | None] = [None] * len(queues)
        self.wake: list[timedelta] = [timedelta(0)] * len(queues)
        self.running: list[tuple[timedelta, int]] = []  # (end, cluster index), a heap
        self.planned: list[list[PlannedHost]] = [[] for _ in queues]
        self.blocked: list[list[BlockedHost]] = [[] for _ in queues]

    def run(self) -> tuple[list[list[PlannedHost]], list[list[BlockedHost]]]:
        t = timedelta(0)
        while True:
            self._start_what_fits(t)
            waiting = [w for i, w in enumerate(self.wake) if self.queues[i] and w > t]
            upcoming = [*waiting, *(end for end, _ in self.running[:1])]
            if not upcoming:
                return self.planned, self.blocked
            t = min(upcoming)
            while self.running and self.running[0][0] <= t:
                _, i = heapq.heappop(self.running)
                self.in_flight[i] -= 1

    def _start_what_fits(self, t: timedelta) -> None:
        while len(self.running) < self.request.global_max_concurrent:
            ready = [
                i
                for i, q in enumerate(self.queues)
                if q and self.in_flight[i] < self.caps[i] and self.wake[i] <= t
            ]
            if not ready:
                return
            # The free slot goes to the critical path: most work left per allowed slot.
            i = max(ready, key=lambda i: (self.work[i] / self.caps[i], -i))
            pending = self.queues[i][0]
            windows = _windows(self.request, self.request.clusters[i])
            decision = wait_reason(windows, self.now + t, pending.estimate.total)
            if decision.ready:
                self._start(i, t)
            elif decision.wake_at is None:
                self.queues[i].popleft()
                self.work[i] -= pending.estimate.total
                host = pending.host
                self.blocked[i].append(
                    BlockedHost(
                        cluster=self.request.clusters[i].name,
                        name=host.name,
                        service_tag=host.service_tag,
                        reason=decision.reason,
                        estimate=pending.estimate,
                    )
                )
            else:
                self.wake[i] = decision.wake_at - self.now

    def _start(self, i: int, t: timedelta) -> None:
        pending = self.queues[i].popleft()
        if self.last_start[i] != t:
            self.waves[i], self.last_start[i] = self.waves[i] + 1, t
        end = t + pending.estimate.total
        heapq.heappush(self.running, (end, i))
        self.in_flight[i] += 1
        self.work[i] -= pending.estimate.total
        host = pending.host
        self.planned[i].append(
            PlannedHost(
                cluster=self.request.clusters[i].name,
                name=host.name,
                service_tag=host.service_tag,
                vm_count=host.vm_count,
                changes=pending.changes,
                estimate=pending.estimate,
                wave=self.waves[i],
                start=t,
                end=end,
            )
        )
