"""The timeline's predicted ends, from the plan Temporal recorded (domain/eta.py does the
arithmetic): per host and for the campaign, next to the actual end once there is one.

- planned end: the campaign's whole queue predicted from its start (what it promised);
- predicted end: what is left, predicted from now (running hosts, then each queue), now
  taken to the next whole minute: an overdue host would otherwise move every prediction
  (and send a new snapshot to every watcher) on each poll;
- a finished host's predicted end is its start plus its estimate.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from api.campaign_history import CampaignHistory
from domain.campaign_spec import Policy
from domain.eta import ClusterQueue, Forecast, Queued, Running, predict
from domain.runbook import ClusterRollout
from domain.windows import parse_windows

QUEUE_STATES = {"running", "paused"}  # a stopping or stopped rollout starts no more hosts


@dataclass(frozen=True)
class HostState:
    tag: str
    cluster: str | None
    state: str  # pending, running, or how it ended
    started: datetime | None = None
    finished: datetime | None = None


def policy_of(spec: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate((spec or {}).get("policy") or {})
    except ValidationError:
        return Policy()


def _queue(
    rollout: ClusterRollout, history: CampaignHistory, running: list[Running], tags: list[str]
) -> ClusterQueue:
    queued = [Queued(t, history.estimates[t]) for t in tags if t in history.estimates]
    return ClusterQueue(
        name=rollout.cluster,
        max_concurrent=rollout.policy.max_concurrent_per_cluster,
        windows=parse_windows(rollout.windows),
        running=running,
        queued=queued,
    )


def planned(history: CampaignHistory, started: datetime | None, global_max: int) -> Forecast:
    """The whole plan, from the campaign's start, every host queued in the plan's order."""
    if started is None or not history.rollouts:
        return Forecast()
    queues = [
        _queue(r, history, [], [job.host.service_tag for job in r.hosts])
        for r in history.rollouts.values()
    ]
    return predict(queues, started, global_max)


def remaining(
    history: CampaignHistory,
    hosts: list[HostState],
    live_clusters: list[dict[str, Any]],
    now: datetime,
    global_max: int,
) -> Forecast:
    """What is left, from now: running hosts hold their slots, each queue in its order."""
    now = _next_minute(now)
    queues = []
    for cluster in live_clusters:
        rollout = history.current.get(str(cluster.get("cluster")))
        if rollout is None:
            continue
        running = [
            Running(h.tag, history.started.get(h.tag) or now, history.estimates[h.tag])
            for h in hosts
            if h.cluster == rollout.cluster and h.state == "running" and h.tag in history.estimates
        ]
        pending = list(cluster.get("pending") or []) if cluster.get("state") in QUEUE_STATES else []
        queues.append(_queue(rollout, history, running, pending))
    return predict(queues, now, global_max)


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Forecasts:
    """The two predictions behind a snapshot's ends: the plan, and what is left (None once
    the campaign has ended)."""

    plan: Forecast
    left: Forecast | None


def forecasts(
    history: CampaignHistory,
    hosts: list[HostState],
    live_clusters: list[dict[str, Any]],
    spec: dict[str, Any],
    started: datetime | None,
    finished: datetime | None,
    now: datetime,
) -> Forecasts:
    """Both predictions (CPU work for a big campaign: console/forecast_cache.py runs it off
    the event loop and shares it)."""
    global_max = policy_of(spec).global_max_concurrent
    plan = planned(history, started, global_max)
    left = remaining(history, hosts, live_clusters, now, global_max) if finished is None else None
    return Forecasts(plan, left)


def plan_key(history: CampaignHistory, started: datetime | None, global_max: int) -> Hashable:
    """Everything ``planned`` reads: equal keys, equal plans."""
    return (started, global_max, *(_rollout_key(r, history) for r in history.rollouts.values()))


def left_key(
    history: CampaignHistory,
    hosts: list[HostState],
    live_clusters: list[dict[str, Any]],
    now: datetime,
    global_max: int,
) -> Hashable:
    """Everything ``remaining`` reads, ``now`` to the minute it is taken to."""
    queues = []
    for cluster in live_clusters:
        rollout = history.current.get(str(cluster.get("cluster")))
        if rollout is None:
            continue
        pending = tuple(cluster.get("pending") or [])
        queued = pending if cluster.get("state") in QUEUE_STATES else ()
        queues.append((_rollout_key(rollout, history, queued), cluster.get("state")))
    running = tuple(
        (h.tag, h.cluster, history.started.get(h.tag), history.estimates.get(h.tag))
        for h in hosts
        if h.state == "running"
    )
    return (_next_minute(now), global_max, running, *queues)


def _rollout_key(
    rollout: ClusterRollout, history: CampaignHistory, tags: tuple[str, ...] | None = None
) -> Hashable:
    if tags is None:
        tags = tuple(job.host.service_tag for job in rollout.hosts)
    schedule = rollout.model_dump_json(include={"cluster", "windows", "policy"})
    return (schedule, tags, tuple(history.estimates.get(t) for t in tags))


def ends(
    history: CampaignHistory,
    hosts: list[HostState],
    live_clusters: list[dict[str, Any]],
    spec: dict[str, Any],
    started: datetime | None,
    finished: datetime | None,
    now: datetime,
    given: Forecasts | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, str | None]]]:
    """The campaign's ends, and each host's (predicted, actual), as the page shows them;
    from ``given`` predictions (made for these inputs) when the caller has them."""
    if given is None:
        given = forecasts(history, hosts, live_clusters, spec, started, finished, now)
    plan, left = given.plan, given.left
    per_host: dict[str, dict[str, str | None]] = {}
    for host in hosts:
        estimate = history.estimates.get(host.tag)
        began = host.started or history.started.get(host.tag)
        if host.finished is not None:
            predicted = began + estimate if began and estimate else None
        else:
            predicted = left.ends.get(host.tag) if left else None
        per_host[host.tag] = {"predicted": _iso(predicted), "actual": _iso(host.finished)}
    predicted_end = None
    if left is not None:
        done = [h.finished for h in hosts if h.finished is not None]
        predicted_end = max([*done, *([left.end] if left.end else [])], default=None)
    campaign = {
        "planned_end": _iso(plan.end),
        "predicted_end": _iso(predicted_end),
        "actual_end": _iso(finished),
        "never": list(left.never) if left else [],  # queued hosts no window can hold
    }
    return campaign, per_host
