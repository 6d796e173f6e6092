"""A campaign's timeline: one row per host, one bar per runbook step, waits with reasons,
and the predicted end next to the actual one.

The bars come from Temporal history (api/campaign_history.py), so every API process and
replica draws the same ones, also for hosts that ran while nobody watched; a host whose
history Temporal no longer has shows one bar from its start to its end (stored results).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from api.campaign_history import Bar, CampaignHistory
from api.campaign_live import Observation
from api.campaign_status import FINAL, status_text
from console.forecast import HostState, ends, policy_of
from console.window_shading import shading, spec_windows
from store.models import Campaign


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
    started: datetime | None = None
    finished: datetime | None = None


def _bars(history: CampaignHistory, row: _Row) -> list[Bar]:
    found = history.bars.get(row.tag)
    if found:
        return found
    if row.started and row.finished:  # history gone (retention): its whole run, one bar
        return [Bar(row.state, row.started, max(row.finished, row.started))]
    return []


def outcomes(live_status: dict[str, Any]) -> list[dict[str, Any]]:
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
    policy = policy_of(spec)
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
    history: CampaignHistory,
    context: TimelineContext,
    now: datetime,
    sites: dict[str, tuple[str, str | None]] | None = None,
) -> dict[str, Any]:
    """The timeline as JSON for the page's script: the campaign and its ends, each
    cluster's wait, and each host's row of step bars (from ``history``) and ends; with
    ``sites`` (cluster -> datacenter, timezone) also each cluster's maintenance windows, in
    its site's local time."""
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
    for result in live_status.get("clusters") or []:
        if isinstance(result, dict):
            for tag in result.get("not_started") or []:
                rows.setdefault(tag, _Row(tag, "not started", cluster=result.get("cluster")))
    for outcome in [*stored, *outcomes(live_status)]:
        tag = outcome["service_tag"]
        started, ended = _when(outcome.get("started_at")), _when(outcome.get("finished_at"))
        row = rows.setdefault(tag, _Row(tag))
        row.state, row.step, row.detail = str(outcome["status"]), None, outcome.get("reason") or ""
        row.started, row.finished = started, ended
    for row in rows.values():
        row.cluster = row.cluster or clusters_of.get(row.tag)
    states = [HostState(r.tag, r.cluster, r.state, r.started, r.finished) for r in rows.values()]
    campaign_ends, host_ends = ends(
        history,
        states,
        live_clusters,
        campaign.spec,
        _when(campaign.started_at),
        _when(campaign.finished_at) if campaign.status in FINAL else None,
        now,
    )
    workflow_id = campaign.workflow_id
    hosts = [
        {
            "tag": row.tag,
            "cluster": row.cluster,
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
                for s in _bars(history, row)
            ],
            "predicted_end": host_ends[row.tag]["predicted"],
            "actual_end": host_ends[row.tag]["actual"],
            "workflow_url": workflow_url(
                context.temporal_ui, context.namespace, f"{workflow_id}-host-{row.tag}"
            )
            if workflow_id
            else None,
        }
        for row in sorted(rows.values(), key=lambda r: (r.cluster or "", r.tag))
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
            **campaign_ends,
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
