"""How long the timeline's predicted ends take for a big campaign (console/forecast.py).

The console computes them for every snapshot of a watched campaign; this builds a synthetic
campaign (no Temporal, no database: the plan as the history reader would return it) and
times one ``ends()`` call, counting ``domain.eta.window_start`` evaluations (the work, which
does not depend on the machine's speed); then what a snapshot costs the event loop once the
minute's predictions are cached.

    .venv/bin/python -m benchmarks.eta_forecast --hosts 400 --clusters 20 --window daily
    .venv/bin/python -m benchmarks.eta_forecast --hosts 2000 --clusters 50 --window weekday

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import domain.eta
from api.campaign_history import CampaignHistory
from console.forecast import HostState, ends
from console.forecast_cache import ForecastCache
from domain.campaign_spec import Policy
from domain.runbook import ClusterRollout, ComponentTarget, HostJob, HostRef

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday
WINDOWS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "daily": [
        {
            "kind": "weekly",
            "timezone": "Europe/Amsterdam",
            "weekdays": list(range(7)),
            "start": "22:00",
            "duration_minutes": 360,
        }
    ],
    "weekday": [
        {
            "kind": "weekly",
            "timezone": "Europe/Amsterdam",
            "weekdays": [0, 1, 2, 3, 4],
            "start": "22:00",
            "duration_minutes": 360,
        }
    ],
}


def _job(tag: str, cluster: str, estimate_s: int, policy: Policy) -> HostJob:
    ref = HostRef(
        name=f"esx-{tag}",
        service_tag=tag,
        idrac_address="127.0.0.9",
        cluster=cluster,
        datacenter="dc",
    )
    target = ComponentTarget(component_id="159", version="2.0", image_uri="x")
    return HostJob(
        campaign_id=1, host=ref, targets=[target], policy=policy, estimated_duration_s=estimate_s
    )


def campaign(
    hosts: int, clusters: int, window: str, policy: Policy
) -> tuple[CampaignHistory, list[HostState], list[dict[str, Any]]]:
    """A campaign an hour in: each cluster's first host running, the rest pending."""
    rollouts: dict[str, ClusterRollout] = {}
    estimates: dict[str, timedelta] = {}
    states: list[HostState] = []
    live: list[dict[str, Any]] = []
    for c in range(clusters):
        name = f"cl{c:03d}"
        jobs = [
            _job(f"H{c:03d}{h:04d}", name, 2400 + 600 * ((c + h) % 6), policy)
            for h in range(c, hosts, clusters)
        ]
        rollouts[name] = ClusterRollout(
            campaign_id=1,
            cluster=name,
            datacenter="dc",
            vcenter_id=None,
            hosts=jobs,
            windows=WINDOWS[window],
            policy=policy,
        )
        tags = [j.host.service_tag for j in jobs]
        estimates |= {j.host.service_tag: timedelta(seconds=j.estimated_duration_s) for j in jobs}
        states += [HostState(tags[0], name, "running")]
        states += [HostState(t, name, "pending") for t in tags[1:]]
        live.append({"cluster": name, "state": "running", "pending": tags[1:]})
    started = {s.tag: START for s in states if s.state == "running"}
    history = CampaignHistory({}, started, estimates, rollouts, dict(rollouts))
    return history, states, live


def _counting(calls: list[int]) -> Callable[..., Any]:
    original = domain.eta.window_start

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    return counted


async def _cached(
    history: CampaignHistory,
    states: list[HostState],
    live: list[dict[str, Any]],
    spec: dict[str, Any],
    now: datetime,
) -> float:
    """What a watcher's snapshot costs once this minute's predictions are made: the keys
    compared on the event loop (console/forecast_cache.py)."""
    cache = ForecastCache()
    await cache.get(1, history, states, live, spec, START, None, now + timedelta(seconds=10))
    began = time.perf_counter()
    await cache.get(1, history, states, live, spec, START, None, now + timedelta(seconds=20))
    assert cache.predictions == 2
    return round(time.perf_counter() - began, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=400)
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--window", choices=sorted(WINDOWS), default="daily")
    parser.add_argument("--per-cluster", type=int, default=2)
    parser.add_argument("--global-cap", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    policy = Policy(
        max_concurrent_per_cluster=args.per_cluster, global_max_concurrent=args.global_cap
    )
    history, states, live = campaign(args.hosts, args.clusters, args.window, policy)
    spec = {"policy": policy.model_dump()}
    now = START + timedelta(hours=1)
    calls = [0]
    domain.eta.window_start = _counting(calls)  # type: ignore[assignment]
    seconds = []
    result: tuple[dict[str, Any], Any] | None = None
    for _ in range(args.repeat):
        calls[0] = 0
        began = time.perf_counter()
        result = ends(history, states, live, spec, START, None, now)
        seconds.append(round(time.perf_counter() - began, 3))
    assert result is not None
    work = calls[0]
    cached = asyncio.run(_cached(history, states, live, spec, now))
    report = {
        **vars(args),
        "seconds_per_call": seconds,
        "window_start_calls_per_call": work,
        "planned_end": result[0]["planned_end"],
        "predicted_end": result[0]["predicted_end"],
        "never": len(result[0]["never"]),
        "cached_snapshot_seconds": cached,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
