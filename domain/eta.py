"""When a campaign and each of its hosts should end: the timeline's "predicted end".

The formula mirrors what the cluster rollout does, with each host taking exactly its
estimated duration (``HostJob.estimated_duration_s``, domain/estimates.py):

- a running host ends at ``started + estimate``, or ``now`` if that has passed (overdue:
  it ends when it ends; we cannot know more);
- a cluster runs its queue in order, at most ``max_concurrent_per_cluster`` hosts at once,
  and the campaign at most ``global_max_concurrent`` hosts at once over all clusters; a
  host starts at the earliest time a cluster slot and a campaign slot are both free, not
  before the host ahead of it in its queue started, and only where a maintenance window
  has room for its whole estimate (``domain.windows.wait_reason``: it waits for the next
  window long enough);
- a host no window within the look-ahead can hold never starts, and neither do the hosts
  queued after it (the rollout stops there too): they have no predicted end;
- the campaign's predicted end is the latest end of its hosts.

Honest limits: vCenter may allow fewer hosts at once than the policy (HA admission control,
``min_hosts_online``), pauses and failures are not foreseen, and a host found compliant at
preflight takes far less than its estimate. The prediction errs late, as estimates do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.windows import OneOffWindow, WeeklyWindow, require_aware, wait_reason

WindowList = Sequence[WeeklyWindow | OneOffWindow]
MAX_WINDOW_HOPS = 1000  # wait_reason finds a long-enough window in one hop; a guard only


@dataclass(frozen=True)
class Queued:
    tag: str
    estimate: timedelta


@dataclass(frozen=True)
class Running:
    tag: str
    started: datetime
    estimate: timedelta


@dataclass(frozen=True)
class ClusterQueue:
    """One cluster as it stands: hosts running now, hosts still queued (in order)."""

    name: str
    max_concurrent: int
    windows: WindowList = ()
    running: Sequence[Running] = ()
    queued: Sequence[Queued] = ()


@dataclass(frozen=True)
class Forecast:
    ends: dict[str, datetime] = field(default_factory=dict)  # service tag -> predicted end
    never: tuple[str, ...] = ()  # queued hosts no window can hold (and those after them)
    end: datetime | None = None  # the latest predicted end; None: no host to predict


def window_start(windows: WindowList, earliest: datetime, duration: timedelta) -> datetime | None:
    """The first moment from ``earliest`` at which a host of ``duration`` may start."""
    moment = earliest
    for _ in range(MAX_WINDOW_HOPS):
        decision = wait_reason(windows, moment, duration)
        if decision.ready:
            return moment
        if decision.wake_at is None:
            return None
        moment = max(decision.wake_at, moment)
    return None


def running_end(host: Running, now: datetime) -> datetime:
    return max(host.started + host.estimate, now)


def predict(clusters: Sequence[ClusterQueue], now: datetime, global_max: int) -> Forecast:
    """List scheduling of every queue (rules in the module doc)."""
    require_aware(now)
    if global_max < 1 or any(c.max_concurrent < 1 for c in clusters):
        raise ValueError("max_concurrent: a cluster and the campaign need at least one slot")
    ends: dict[str, datetime] = {}
    campaign_slots = [now] * global_max
    cluster_slots: dict[str, list[datetime]] = {}
    for cluster in clusters:
        slots = [now] * cluster.max_concurrent
        for host in cluster.running:
            end = ends[host.tag] = running_end(host, now)
            _take(slots, end)
            _take(campaign_slots, end)
        cluster_slots[cluster.name] = slots
    heads = {c.name: 0 for c in clusters}
    last_start = {c.name: now for c in clusters}
    never: list[str] = []
    while True:
        best: tuple[datetime, ClusterQueue] | None = None
        for cluster in clusters:
            index = heads[cluster.name]
            if index >= len(cluster.queued):
                continue
            host = cluster.queued[index]
            ready = max(min(cluster_slots[cluster.name]), min(campaign_slots))
            start = window_start(
                cluster.windows, max(ready, last_start[cluster.name]), host.estimate
            )
            if start is None:  # the rollout stops at this host
                never += [h.tag for h in cluster.queued[index:]]
                heads[cluster.name] = len(cluster.queued)
                continue
            if best is None or start < best[0]:
                best = (start, cluster)
        if best is None:
            break
        start, cluster = best
        host = cluster.queued[heads[cluster.name]]
        heads[cluster.name] += 1
        last_start[cluster.name] = start
        end = ends[host.tag] = start + host.estimate
        _take(cluster_slots[cluster.name], end)
        _take(campaign_slots, end)
    return Forecast(ends=ends, never=tuple(never), end=max(ends.values(), default=None))


def _take(slots: list[datetime], busy_until: datetime) -> None:
    """The earliest free slot is busy until ``busy_until``."""
    slots[slots.index(min(slots))] = busy_until
