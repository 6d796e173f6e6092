"""The makespan no orchestrator can beat, from each host's own device time.

A cluster that lets ``allowed`` hosts down at once needs at least
``max(longest host, sum of its hosts / allowed)``; a campaign with ``global_cap`` slots
needs at least ``max(longest host, sum of all hosts / global_cap)``. The bound is the
larger (the tighter) of the worst cluster's and the campaign's. Both ignore that hosts
cannot be split across slots, so the bound is never above the best possible schedule.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import fields

from simulators.idrac.host import Timings

# What the simulated server itself spends on a BIOS update with a graceful reboot:
# download the image; then OS shutdown, power off, the BIOS applied during POST, POST,
# and the Lifecycle Controller becoming ready after POST.
DEVICE_STEPS = (
    "download",
    "graceful_shutdown",
    "power_off",
    "apply_on_reboot",
    "post",
    "lc_after_post",
)


def drawn_timings(rng: random.Random, spread: float) -> dict[str, float]:
    """One server's device durations, each drawn within +-SPREAD of the simulator's."""
    defaults = Timings()
    return {
        step: round(getattr(defaults, step) * rng.uniform(1 - spread, 1 + spread), 2)
        for step in DEVICE_STEPS
    }


def device_seconds(timings: Mapping[str, float], time_scale: float) -> float:
    """The server's own time for the update, in wall seconds at TIME_SCALE."""
    defaults = {f.name: getattr(Timings(), f.name) for f in fields(Timings)}
    return sum(timings.get(step, defaults[step]) for step in DEVICE_STEPS) * time_scale


def capacity_bound(device_s: Sequence[float], slots: int) -> float:
    """Least time for these hosts when at most SLOTS run at once."""
    return max(max(device_s), sum(device_s) / slots)


def lower_bound(clusters: Sequence[tuple[Sequence[float], int]], global_cap: int) -> float:
    """The best of the per-cluster capacity bounds and the global-cap bound; CLUSTERS
    holds each cluster's device times and the hosts it may have down at once."""
    per_cluster = max(capacity_bound(times, allowed) for times, allowed in clusters)
    everyone = [t for times, _ in clusters for t in times]
    return max(per_cluster, capacity_bound(everyone, global_cap))
