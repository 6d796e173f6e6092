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
- Schedule: clusters roll in parallel. A host starts as soon as its cluster has fewer than
  ``max_concurrent`` hosts in flight and the whole campaign fewer than
  ``global_max_concurrent``. When the global cap is the limit, the next free slot goes to
  the cluster with the most estimated work left per allowed slot (the critical path), ties
  by cluster order. A wave is the set of a cluster's hosts planned to start together.
- Times are offsets from the campaign start; waiting for maintenance windows is not
  included (windows decide *when*, the plan says *how long*).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import deque
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.components import FACTS, ComponentKind, classify
from domain.estimates import HostEstimate, estimate_host, history_key
from domain.windows import format_duration

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

    @field_validator("clusters")
    @classmethod
    def _unique_names(cls, clusters: list[ClusterInventory]) -> list[ClusterInventory]:
        for label, values in (
            ("cluster names", [c.name for c in clusters]),
            ("host names", [h.name for c in clusters for h in c.hosts]),
            ("service tags", [h.service_tag for c in clusters for h in c.hosts]),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{label} must be unique; repeated: {', '.join(repeated)}")
        return clusters

    @model_validator(mode="after")
    def _positive_history(self) -> PlanRequest:
        for key, samples in self.history.items():
            if any(sample <= timedelta(0) for sample in samples):
                raise ValueError(f"history[{key!r}]: past durations must be positive")
        return self


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


class ClusterPlan(_Frozen):
    name: str
    max_concurrent: int
    hosts: list[PlannedHost]
    skipped: list[SkippedHost]
    waves: int
    finish: timedelta


class RolloutPlan(_Frozen):
    clusters: list[ClusterPlan]
    global_max_concurrent: int
    order: Order
    makespan: timedelta

    @property
    def hosts(self) -> list[PlannedHost]:
        return [h for c in self.clusters for h in c.hosts]

    @property
    def skipped(self) -> list[SkippedHost]:
        return [s for c in self.clusters for s in c.skipped]

    def render_text(self) -> str:
        """The dry run as the CLI prints it."""
        lines = [
            "Rollout plan (dry run)",
            f"  {len(self.hosts)} hosts to update in {len(self.clusters)} clusters, "
            f"{len(self.skipped)} skipped; at most {self.global_max_concurrent} hosts at once",
            f"  order within a cluster: {ORDER_TEXT[self.order]}",
            f"  estimated makespan: {format_duration(self.makespan, up=True)}"
            " (working time; waiting for maintenance windows not included)",
        ]
        for cluster in self.clusters:
            lines += [
                "",
                f"cluster {cluster.name}: {len(cluster.hosts)} to update, "
                f"up to {cluster.max_concurrent} at once, {cluster.waves} waves, "
                f"done after {format_duration(cluster.finish, up=True)}",
            ]
            for host in cluster.hosts:
                reboot = "host reboot" if host.estimate.host_reboot else "no host reboot"
                lines.append(
                    f"  wave {host.wave:<3} {_offset(host.start)} -> {_offset(host.end)}  "
                    f"{host.name} [{host.service_tag}] {host.vm_count} VMs, "
                    f"{format_duration(host.estimate.total, up=True)} ({reboot}; "
                    f"{host.estimate.basis})"
                )
                lines += [f"      {change.render()}" for change in host.changes]
            lines += [f"  skipped  {s.name} [{s.service_tag}]: {s.reason}" for s in cluster.skipped]
        return "\n".join(lines)


def _offset(value: timedelta) -> str:
    """'+1:05': hours and minutes from the campaign start, rounded up like the durations."""
    minutes = math.ceil(value.total_seconds() / 60)
    return f"+{minutes // 60}:{minutes % 60:02d}"


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


def plan_rollout(request: PlanRequest) -> RolloutPlan:
    """Build the dry-run plan (rules in the module doc). Deterministic for a given request."""
    queues: list[deque[_Pending]] = []
    skipped: list[list[SkippedHost]] = []
    for cluster in request.clusters:
        queue: deque[_Pending] = deque()
        passed: list[SkippedHost] = []
        for host in _ordered(cluster.hosts, request.order):
            changes, reason = _changes(host, request.target)
            if not changes:
                passed.append(
                    SkippedHost(
                        cluster=cluster.name,
                        name=host.name,
                        service_tag=host.service_tag,
                        reason=reason,
                    )
                )
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
    planned = _schedule(request, queues)
    clusters = [
        ClusterPlan(
            name=cluster.name,
            max_concurrent=cluster.max_concurrent,
            hosts=hosts,
            skipped=passed,
            waves=max((h.wave for h in hosts), default=0),
            finish=max((h.end for h in hosts), default=timedelta(0)),
        )
        for cluster, hosts, passed in zip(request.clusters, planned, skipped, strict=True)
    ]
    return RolloutPlan(
        clusters=clusters,
        global_max_concurrent=request.global_max_concurrent,
        order=request.order,
        makespan=max((c.finish for c in clusters), default=timedelta(0)),
    )


def _schedule(request: PlanRequest, queues: list[deque[_Pending]]) -> list[list[PlannedHost]]:
    """Event-driven list scheduling under both caps (rules in the module doc)."""
    caps = [c.max_concurrent for c in request.clusters]
    work = [sum((p.estimate.total for p in q), timedelta(0)) for q in queues]
    running: list[tuple[timedelta, int]] = []  # (end, cluster index)
    in_flight = [0] * len(queues)
    waves = [0] * len(queues)
    last_start: list[timedelta | None] = [None] * len(queues)
    planned: list[list[PlannedHost]] = [[] for _ in queues]
    now = timedelta(0)
    while any(queues) or running:
        while len(running) < request.global_max_concurrent:
            ready = [i for i, q in enumerate(queues) if q and in_flight[i] < caps[i]]
            if not ready:
                break
            i = max(ready, key=lambda i: (work[i] / caps[i], -i))
            pending = queues[i].popleft()
            if last_start[i] != now:
                waves[i], last_start[i] = waves[i] + 1, now
            end = now + pending.estimate.total
            heapq.heappush(running, (end, i))
            in_flight[i] += 1
            work[i] -= pending.estimate.total
            host = pending.host
            planned[i].append(
                PlannedHost(
                    cluster=request.clusters[i].name,
                    name=host.name,
                    service_tag=host.service_tag,
                    vm_count=host.vm_count,
                    changes=pending.changes,
                    estimate=pending.estimate,
                    wave=waves[i],
                    start=now,
                    end=end,
                )
            )
        if not running:
            break
        now, i = heapq.heappop(running)
        in_flight[i] -= 1
        while running and running[0][0] == now:
            _, j = heapq.heappop(running)
            in_flight[j] -= 1
    return planned
