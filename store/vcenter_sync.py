"""vCenter sync runs and the hosts each vCenter showed, and the one transaction that applies
a sync: import datacenters and clusters, link hosts to servers by service tag, report.

A run finishes once: a retried apply returns the report the first one stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Engine, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from domain.runbook import CampaignState
from domain.vcenter_sync import (
    HostEntry,
    HostMove,
    HostRemoved,
    SeenHost,
    SyncReport,
    host_changes,
)
from store.credentials import all_scopes, resolve_for_vcenter
from store.models import Campaign, Cluster, Datacenter, Server, Vcenter, _ts, utcnow

IMPORTED_TIMEZONE = "UTC"  # vCenter has no site timezone; an admin sets the real one
OPEN_CAMPAIGN = (
    CampaignState.PLANNING,
    CampaignState.RUNNING,
    CampaignState.PAUSED,
    CampaignState.ABORTING,
)


class VcenterSyncRun(SQLModel, table=True):
    """One sync of one vCenter: who or what started it, and what it found."""

    __tablename__ = "vcenter_sync_runs"

    id: int | None = Field(default=None, primary_key=True)
    vcenter_id: int = Field(foreign_key="vcenters.id", index=True)
    trigger: str = Field(max_length=16)  # api | schedule
    status: str = Field(default="running", max_length=16, index=True)
    workflow_id: str | None = Field(default=None, max_length=128)
    created_by: str = Field(max_length=255)
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None, nullable=True)


class VcenterHost(SQLModel, table=True):
    """The latest knowledge of one ESXi host of a vCenter; ``gone_at`` once a sync missed it."""

    __tablename__ = "vcenter_hosts"
    __table_args__ = (UniqueConstraint("vcenter_id", "moid", name="uq_vcenter_hosts_moid"),)

    id: int | None = Field(default=None, primary_key=True)
    vcenter_id: int = Field(foreign_key="vcenters.id", index=True)
    moid: str = Field(max_length=64)
    name: str = Field(max_length=255)
    service_tag: str | None = Field(default=None, max_length=16, index=True)
    datacenter: str | None = Field(default=None, max_length=128)
    cluster: str | None = Field(default=None, max_length=128)
    server_id: int | None = Field(default=None, foreign_key="servers.id", index=True)
    first_seen_at: datetime = _ts(default_factory=utcnow)
    last_seen_at: datetime = _ts(default_factory=utcnow)
    gone_at: datetime | None = _ts(default=None, nullable=True)

    def seen(self) -> SeenHost:
        return SeenHost(
            moid=self.moid,
            name=self.name,
            service_tag=self.service_tag,
            datacenter=self.datacenter,
            cluster=self.cluster,
        )


def start_scheduled_runs(engine: Engine) -> list[int]:
    """One run per registered vCenter that has a login (the schedule's sync)."""
    with Session(engine) as session:
        scopes = all_scopes(session)
        vcenters = [
            v
            for v in session.exec(select(Vcenter)).all()
            if resolve_for_vcenter(session, v, scopes).profile_id is not None
        ]
        runs = [
            VcenterSyncRun(vcenter_id=v.id or 0, trigger="schedule", created_by="schedule")
            for v in vcenters
        ]
        session.add_all(runs)
        session.commit()
        return [run.id or 0 for run in runs]


def vcenter_of_run(engine: Engine, run_id: int) -> int:
    with Session(engine) as session:
        run = session.get(VcenterSyncRun, run_id)
        if run is None:
            raise LookupError(f"vCenter sync run {run_id} does not exist")
        return run.vcenter_id


def apply_sync(
    engine: Engine, run_id: int, datacenters: list[str], hosts: list[SeenHost], clusters: list[str]
) -> SyncReport:
    """Import what vCenter showed and record the differences; one commit."""
    with Session(engine) as session:
        run = session.get(VcenterSyncRun, run_id)
        if run is None:
            raise LookupError(f"vCenter sync run {run_id} does not exist")
        if run.status == "completed":
            return SyncReport.model_validate(run.report or {})
        dc_ids = _import_datacenters(session, datacenters)
        cluster_ids = _import_clusters(session, run.vcenter_id, clusters)
        rows = {
            row.moid: row
            for row in session.exec(
                select(VcenterHost).where(VcenterHost.vcenter_id == run.vcenter_id)
            ).all()
        }
        known = {moid: row.seen() for moid, row in rows.items() if row.gone_at is None}
        new, moved, removed = host_changes(known, {host.moid: host for host in hosts})
        tags = [h.service_tag for h in hosts if h.service_tag]
        servers = {
            s.service_tag: s
            for s in session.exec(select(Server).where(col(Server.service_tag).in_(tags))).all()
        }
        linked = {moid: row.server_id for moid, row in rows.items()}
        now = utcnow()
        for host in hosts:
            server = servers.get(host.service_tag or "")
            if server is not None:
                _link(session, server, host, dc_ids, cluster_ids)
            linked[host.moid] = server.id if server else None
            row = rows.get(host.moid) or VcenterHost(
                vcenter_id=run.vcenter_id, moid=host.moid, name=host.name, first_seen_at=now
            )
            row.name, row.service_tag, row.datacenter = host.name, host.service_tag, host.datacenter
            row.cluster, row.server_id = host.cluster, linked[host.moid]
            row.last_seen_at, row.gone_at = now, None
            session.add(row)
        for host in removed:
            rows[host.moid].gone_at = now
            session.add(rows[host.moid])
        campaigns = _open_campaign_targets(session)

        def entry(host: SeenHost) -> dict[str, Any]:
            return {
                "name": host.name,
                "service_tag": host.service_tag,
                "cluster": host.cluster,
                "server_id": linked.get(host.moid),
            }

        report = SyncReport(
            datacenters=len(datacenters),
            clusters=len(clusters),
            hosts=len(hosts),
            linked=sum(1 for h in hosts if linked[h.moid] is not None),
            new=[HostEntry(**entry(h)) for h in new],
            moved=[
                HostMove(
                    **entry(h),
                    from_cluster=was,
                    open_campaigns=_targeting(campaigns, h.model_copy(update={"cluster": was})),
                )
                for h, was in moved
            ],
            removed=[
                HostRemoved(**entry(h), open_campaigns=_targeting(campaigns, h)) for h in removed
            ],
            unmatched=[HostEntry(**entry(h)) for h in hosts if linked[h.moid] is None],
        )
        run.status, run.finished_at = "completed", now
        run.report = report.model_dump(mode="json")
        session.add(run)
        session.commit()
        return report


def _import_datacenters(session: Session, names: list[str]) -> dict[str, int]:
    existing = {
        d.name: d
        for d in session.exec(select(Datacenter).where(col(Datacenter.name).in_(names))).all()
    }
    for name in names:
        if name not in existing:
            existing[name] = Datacenter(name=name, timezone=IMPORTED_TIMEZONE)
            session.add(existing[name])
    session.flush()
    return {name: d.id or 0 for name, d in existing.items()}


def _import_clusters(session: Session, vcenter_id: int, names: list[str]) -> dict[str, int]:
    existing = {
        c.name: c for c in session.exec(select(Cluster).where(Cluster.vcenter_id == vcenter_id))
    }
    for name in names:
        if name not in existing:
            existing[name] = Cluster(name=name, vcenter_id=vcenter_id)
            session.add(existing[name])
    session.flush()
    return {name: c.id or 0 for name, c in existing.items()}


def _link(
    session: Session,
    server: Server,
    host: SeenHost,
    dc_ids: dict[str, int],
    cluster_ids: dict[str, int],
) -> None:
    """The server takes vCenter's host name, cluster and datacenter."""
    server.esxi_host = host.name
    server.cluster_id = cluster_ids.get(host.cluster) if host.cluster else None
    if host.datacenter in dc_ids:
        server.datacenter_id = dc_ids[host.datacenter or ""]
    session.add(server)


def _open_campaign_targets(session: Session) -> dict[int, dict[str, Any]]:
    query = select(Campaign).where(col(Campaign.status).in_([s.value for s in OPEN_CAMPAIGN]))
    return {c.id or 0: c.spec.get("targets", {}) for c in session.exec(query).all()}


def _targeting(campaigns: dict[int, dict[str, Any]], host: SeenHost) -> list[int]:
    """Open campaigns whose targets name the host, its service tag or its cluster."""
    return sorted(
        campaign_id
        for campaign_id, targets in campaigns.items()
        if host.name in targets.get("hosts", [])
        or (host.service_tag and host.service_tag in targets.get("service_tags", []))
        or (host.cluster and host.cluster in targets.get("clusters", []))
    )


def fail_sync(engine: Engine, run_id: int, reason: str) -> None:
    with Session(engine) as session:
        run = session.get(VcenterSyncRun, run_id)
        if run is not None and run.status == "running":
            run.status, run.error, run.finished_at = "failed", reason[:2000], utcnow()
            session.add(run)
            session.commit()
