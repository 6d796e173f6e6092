"""A campaign's timeline: one row per host, one bar per runbook step, waits with reasons.

Temporal answers "which step is each running host in now" (the host workflow's
``current_step`` query, gathered by ``api.campaign_live.observe``); it keeps no per-step
times of its own. So each API process remembers when it first saw a host enter a step
(``StepTracker``): the bars of hosts watched while they ran. A host that finished unseen
(e.g. before anyone opened the page) shows one bar from its start to its end.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from api.campaign_live import Observation
from api.campaign_status import FINAL, status_text
from console.window_shading import shading, spec_windows
from domain.campaign_spec import Policy
from store.models import Campaign

TRACKED_CAMPAIGNS = 64
STEP_JOIN = " + "  # how the host workflow names steps that run at once


@dataclass
class Segment:
    step: str
    start: datetime
    end: datetime | None = None
    track: int = 0  # steps run at once (e.g. verify + wait_reconnect) share the row
    tracks: int = 1


@dataclass
class StepTracker:
    """When each host of each campaign was first seen in each step (bounded: the most
    recently watched campaigns only)."""

    campaigns: OrderedDict[int, dict[str, list[Segment]]] = field(default_factory=OrderedDict)

    def hosts(self, campaign_id: int) -> dict[str, list[Segment]]:
        found = self.campaigns.setdefault(campaign_id, {})
        self.campaigns.move_to_end(campaign_id)
        while len(self.campaigns) > TRACKED_CAMPAIGNS:
            self.campaigns.popitem(last=False)
        return found

    def saw_steps(self, campaign_id: int, tag: str, current: str, now: datetime) -> None:
        """``current`` is the host's ``current_step`` answer: "verify + wait_reconnect"
        while steps run at once. Steps no longer named have ended."""
        steps = [step.strip() for step in current.split(STEP_JOIN) if step.strip()]
        segments = self.hosts(campaign_id).setdefault(tag, [])
        running = {s.step: s for s in segments if s.end is None}
        for step, segment in running.items():
            if step not in steps:
                segment.end = now
        for index, step in enumerate(steps):
            if step not in running:
                segments.append(Segment(step, now, track=index, tracks=len(steps)))

    def saw_end(
        self, campaign_id: int, tag: str, status: str, started: datetime, ended: datetime
    ) -> None:
        segments = self.hosts(campaign_id).setdefault(tag, [])
        if not segments:
            segments.append(Segment(status, started, ended))
        for segment in segments:
            if segment.end is None:
                segment.end = max(ended, segment.start)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class _Row:
    tag: str
    state: str = "pending"
    step: str | None = None
    detail: str = ""
    cluster: str | None = None


def _outcomes(live_status: dict[str, Any]) -> list[dict[str, Any]]:
    """Every host outcome the workflow reported: running campaigns list them at the top,
    closed ones per cluster."""
    found = list(live_status.get("outcomes") or [])
    for cluster in live_status.get("clusters") or []:
        if isinstance(cluster, dict):
            found.extend(cluster.get("outcomes") or [])
    return found


def workflow_url(base: str, namespace: str, workflow_id: str) -> str:
    return f"{base}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


def capacity_allowed(spec: dict[str, Any]) -> dict[str, int]:
    """What the campaign's policy allows each cluster: hosts updating at once, and hosts
    that must stay online (the policy's defaults where the spec leaves them out)."""
    try:
        policy = Policy.model_validate((spec or {}).get("policy") or {})
    except ValidationError:
        policy = Policy()
    return {
        "allowed": policy.max_concurrent_per_cluster,
        "min_online": policy.min_hosts_online,
    }


@dataclass(frozen=True)
class TimelineContext:
    temporal_ui: str
    namespace: str


def snapshot(
    campaign: Campaign,
    seen: Observation | None,
    stored: list[dict[str, Any]],
    clusters_of: dict[str, str],
    tracker: StepTracker,
    context: TimelineContext,
    now: datetime,
    sites: dict[str, tuple[str, str | None]] | None = None,
) -> dict[str, Any]:
    """The timeline as JSON for the page's script: the campaign, each cluster's wait, and
    each host's row of step bars; with ``sites`` (cluster -> datacenter, timezone) also
    each cluster's maintenance windows, in its site's local time."""
    campaign_id = campaign.id or 0
    live = seen.live if seen else None
    live_status = (live.status if live else None) or {}
    live_clusters = list(live.clusters) if live else []
    rows: dict[str, _Row] = {}
    clusters = []
    allowed = capacity_allowed(campaign.spec)
    for cluster in live_clusters:
        name = cluster.get("cluster")
        clusters.append(
            {
                "name": name,
                "state": cluster.get("state"),
                "waiting_reason": cluster.get("waiting_reason"),
                "updating": len(cluster.get("running") or {}),
                **allowed,
            }
        )
        for tag in cluster.get("pending") or []:
            rows.setdefault(tag, _Row(tag, cluster=name))
        for tag, step in (cluster.get("running") or {}).items():
            rows[tag] = _Row(tag, "running", str(step), cluster=name)
            tracker.saw_steps(campaign_id, tag, str(step), now)
    for result in live_status.get("clusters") or []:
        if isinstance(result, dict):
            for tag in result.get("not_started") or []:
                rows.setdefault(tag, _Row(tag, "not started", cluster=result.get("cluster")))
    for outcome in [*stored, *_outcomes(live_status)]:
        tag = outcome["service_tag"]
        started, ended = _when(outcome.get("started_at")), _when(outcome.get("finished_at"))
        row = rows.setdefault(tag, _Row(tag))
        row.state, row.step, row.detail = str(outcome["status"]), None, outcome.get("reason") or ""
        if started and ended:
            tracker.saw_end(campaign_id, tag, row.state, started, ended)
    segments = tracker.hosts(campaign_id)
    workflow_id = campaign.workflow_id
    hosts = [
        {
            "tag": row.tag,
            "cluster": row.cluster or clusters_of.get(row.tag),
            "state": row.state,
            "step": row.step,
            "detail": row.detail,
            "segments": [
                {
                    "step": s.step,
                    "start": _iso(s.start),
                    "end": _iso(s.end),
                    "track": s.track,
                    "tracks": s.tracks,
                }
                for s in segments.get(row.tag, [])
            ],
            "workflow_url": workflow_url(
                context.temporal_ui, context.namespace, f"{workflow_id}-host-{row.tag}"
            )
            if workflow_id
            else None,
        }
        for row in sorted(
            rows.values(), key=lambda r: (r.cluster or clusters_of.get(r.tag) or "", r.tag)
        )
    ]
    return {
        "campaign": {
            "id": campaign_id,
            "name": campaign.name,
            "status": campaign.status,
            # While it waits for approval: "waiting for approval (1 of 2)".
            "status_text": live_status.get("waiting_reason")
            or status_text(campaign.status, campaign.status_reason),
            "abort_reason": campaign.abort_reason,
            "started_at": _iso(_when(campaign.started_at)),
            "finished_at": _iso(_when(campaign.finished_at)),
            "final": campaign.status in FINAL,
            "detail": live.detail if live else None,
            "workflow_url": workflow_url(context.temporal_ui, context.namespace, workflow_id)
            if workflow_id
            else None,
        },
        "now": _iso(now),
        "clusters": clusters,
        # Per-cluster approval: each cluster's gate (waiting, approved, rejected, expired).
        "approvals": [a for a in live_status.get("cluster_approvals") or [] if isinstance(a, dict)],
        "windows": shading(
            spec_windows(campaign.spec),
            sites or {},
            _when(campaign.started_at) or _when(campaign.created_at) or now,
            _when(campaign.finished_at) or now,
        ),
        "hosts": hosts,
    }
