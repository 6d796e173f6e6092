"""The predicted end as first written (asking the windows for every head on every round):
the reference test_eta_equivalence.py holds domain/eta.py's faster ``predict`` to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.eta import ClusterQueue, Forecast, running_end, window_start
from domain.windows import require_aware


def predict(clusters: Sequence[ClusterQueue], now: datetime, global_max: int) -> Forecast:
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
            if start is None:
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
    slots[slots.index(min(slots))] = busy_until
