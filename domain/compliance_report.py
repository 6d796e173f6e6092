"""What a compliance evaluation is read as: fleet and cluster summaries, drift, flat rows.

Drift is measured between two evaluations of the same baseline: a host is *off* its
baseline while its state is ``upgrade`` or ``downgrade``. ``off_since`` is the first
evaluation of the current off stretch, and "what changed" is the difference between the
host's last evaluation before that stretch and the first one in it: which components'
installed versions, targets or states moved (a new catalog, a part swapped, a rollback).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.compliance import OFF_BASELINE, ComponentCompliance, HostCompliance, State

CSV_COLUMNS = (
    "datacenter",
    "cluster",
    "host",
    "service_tag",
    "system_id",
    "host_state",
    "component_id",
    "component",
    "installed",
    "target",
    "state",
    "reason",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Summary(_Frozen):
    hosts: int
    compliant_pct: float
    host_states: dict[State, int]
    component_states: dict[State, int]


class ClusterSummary(Summary):
    cluster: str | None


class DriftChange(_Frozen):
    component_id: str
    name: str
    installed_before: list[str]
    installed_now: list[str]
    target_before: str | None
    target_now: str | None
    state_before: State | None
    state_now: State | None


class HostDrift(_Frozen):
    """Where one host stands after an evaluation, against the one before it."""

    off: bool
    off_since: datetime | None
    changes: list[DriftChange]


def summarize(hosts: Sequence[HostCompliance]) -> Summary:
    """Counts by state; ``compliant_pct`` of the hosts whose state is known."""
    host_states = Counter(h.state for h in hosts)
    component_states = Counter(c.state for h in hosts for c in h.components)
    known = len(hosts) - host_states[State.UNKNOWN]
    compliant = host_states[State.COMPLIANT] + host_states[State.NOT_APPLICABLE]
    return Summary(
        hosts=len(hosts),
        compliant_pct=round(100 * compliant / known, 1) if known else 0.0,
        host_states={s: host_states[s] for s in State},
        component_states={s: component_states[s] for s in State},
    )


def by_cluster(hosts: Sequence[HostCompliance]) -> list[ClusterSummary]:
    """One summary per cluster (hosts outside any cluster under ``None``), by name."""
    groups: dict[str | None, list[HostCompliance]] = {}
    for host in hosts:
        groups.setdefault(host.cluster, []).append(host)
    ordered = sorted(groups, key=lambda name: (name is None, name or ""))
    return [
        ClusterSummary(cluster=name, **summarize(groups[name]).model_dump()) for name in ordered
    ]


def changes(before: HostCompliance | None, now: HostCompliance) -> list[DriftChange]:
    """Components whose installed versions, target or state differ between two evaluations."""
    old = {c.component_id: c for c in before.components} if before else {}
    new = {c.component_id: c for c in now.components}
    found = []
    for component_id in sorted(old.keys() | new.keys()):
        a, b = old.get(component_id), new.get(component_id)
        either = b or a
        if either is None or _same(a, b):
            continue
        found.append(
            DriftChange(
                component_id=component_id,
                name=either.name,
                installed_before=a.installed if a else [],
                installed_now=b.installed if b else [],
                target_before=a.target if a else None,
                target_now=b.target if b else None,
                state_before=a.state if a else None,
                state_now=b.state if b else None,
            )
        )
    return found


def _same(a: ComponentCompliance | None, b: ComponentCompliance | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.installed, a.target, a.state) == (b.installed, b.target, b.state)


def drift(
    previous: HostCompliance | None,
    previous_drift: HostDrift | None,
    now: HostCompliance,
    at: datetime,
) -> HostDrift:
    """The host's drift after an evaluation at ``at`` (rules in the module doc)."""
    if now.state not in OFF_BASELINE:
        return HostDrift(off=False, off_since=None, changes=[])
    if previous_drift is not None and previous_drift.off:
        return previous_drift
    return HostDrift(off=True, off_since=at, changes=changes(previous, now))


def csv_rows(hosts: Iterable[HostCompliance]) -> Iterable[tuple[str, ...]]:
    """One row per host and component (one per host without any), as CSV_COLUMNS."""
    for host in hosts:
        head = (
            host.datacenter or "",
            host.cluster or "",
            host.name,
            host.service_tag,
            host.system_id or "",
            host.state.value,
        )
        if not host.components:
            yield (*head, "", "", "", "", host.state.value, host.reason)
        for c in host.components:
            yield (
                *head,
                c.component_id,
                c.name,
                " ".join(c.installed),
                c.target or "",
                c.state.value,
                c.reason,
            )
