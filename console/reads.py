"""What the fleet and host pages show, read through the store (blocking: run in a thread)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from store import server_reads
from store.models import AuditEvent, Campaign, Cluster, Datacenter, HostUpdate, Server, Vcenter

FLEET_PAGE = 500
HOST_HISTORY = 50
HEALTH_ORDER = ("Critical", "Warning", "Unknown", "OK", None)


@dataclass
class ClusterRow:
    id: int
    name: str
    datacenter: str | None
    health: Counter[str | None] = field(default_factory=Counter)


@dataclass
class FleetView:
    datacenters: list[Datacenter]
    clusters: list[ClusterRow]
    servers: list[dict[str, Any]]
    total: int
    cluster_names: dict[int, str]
    datacenter_names: dict[int, str]


def _cluster_rows(session: Session) -> list[ClusterRow]:
    statement = (
        select(Cluster, Datacenter.name)
        .join(Vcenter, col(Vcenter.id) == Cluster.vcenter_id)
        .join(Datacenter, col(Datacenter.id) == Vcenter.datacenter_id, isouter=True)
        .order_by(col(Cluster.name))
    )
    return [ClusterRow(c.id or 0, c.name, dc) for c, dc in session.exec(statement).all()]


def fleet(engine: Engine, filters: dict[str, Any]) -> FleetView:
    """Datacenters, clusters with their hosts' health counted, and the hosts that match."""
    servers, total = server_reads.server_page(engine, filters, FLEET_PAGE, 0)
    with Session(engine) as session:
        datacenters = list(session.exec(select(Datacenter).order_by(col(Datacenter.name))).all())
        clusters = _cluster_rows(session)
        by_id = {c.id: c for c in clusters}
        counts = session.exec(
            select(Server.cluster_id, Server.health, func.count()).group_by(
                col(Server.cluster_id), col(Server.health)
            )
        ).all()
    for cluster_id, health, count in counts:
        if cluster_id in by_id:
            by_id[cluster_id].health[health] += count
    return FleetView(
        datacenters=datacenters,
        clusters=clusters,
        servers=servers,
        total=total,
        cluster_names={c.id: c.name for c in clusters},
        datacenter_names={d.id or 0: d.name for d in datacenters},
    )


@dataclass
class HostView:
    server: Server
    cluster: str | None
    datacenter: str | None
    updates: list[tuple[HostUpdate, Campaign]]
    audit: list[AuditEvent]


def host(engine: Engine, server_id: int) -> HostView | None:
    """One host: its identity, the campaigns that touched it and its audit entries."""
    with Session(engine) as session:
        server = session.get(Server, server_id)
        if server is None:
            return None
        cluster = session.get(Cluster, server.cluster_id) if server.cluster_id else None
        datacenter = session.get(Datacenter, server.datacenter_id) if server.datacenter_id else None
        updates = session.exec(
            select(HostUpdate, Campaign)
            .join(Campaign, col(Campaign.id) == HostUpdate.campaign_id)
            .where(HostUpdate.server_id == server_id)
            .order_by(col(HostUpdate.id).desc())
            .limit(HOST_HISTORY)
        ).all()
        # Campaign activities name a host "campaign:<id>/host:<tag>"; API calls name the path.
        audit = session.exec(
            select(AuditEvent)
            .where(
                or_(
                    col(AuditEvent.target).endswith(f"/host:{server.service_tag}"),
                    col(AuditEvent.target).endswith(f"/servers/{server_id}"),
                )
            )
            .order_by(col(AuditEvent.seq).desc())
            .limit(HOST_HISTORY)
        ).all()
        return HostView(
            server=server,
            cluster=cluster.name if cluster else None,
            datacenter=datacenter.name if datacenter else None,
            updates=list(updates),
            audit=list(audit),
        )


def campaigns(engine: Engine, limit: int = 200) -> list[Campaign]:
    with Session(engine) as session:
        statement = select(Campaign).order_by(col(Campaign.id).desc()).limit(limit)
        return list(session.exec(statement).all())


def clusters_of(engine: Engine, tags: list[str]) -> dict[str, str]:
    """service tag -> cluster name, for the hosts a timeline shows."""
    if not tags:
        return {}
    with Session(engine) as session:
        rows = session.exec(
            select(Server.service_tag, Cluster.name)
            .join(Cluster, col(Cluster.id) == Server.cluster_id)
            .where(col(Server.service_tag).in_(tags))
        ).all()
    return dict(rows)


def stored_results(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """A campaign's per-host results as the activities stored them: what a timeline shows
    once Temporal has forgotten the workflow."""
    with Session(engine) as session:
        rows = session.exec(
            select(HostUpdate, Server.service_tag)
            .join(Server, col(Server.id) == HostUpdate.server_id)
            .where(HostUpdate.campaign_id == campaign_id)
            .order_by(col(HostUpdate.id))
        ).all()
    return [
        {
            "service_tag": tag,
            "status": row.status,
            "reason": row.detail or "",
            "started_at": row.started_at,
            "finished_at": row.finished_at,
        }
        for row, tag in rows
    ]


def sites(engine: Engine, clusters: list[str]) -> dict[str, tuple[str, str | None]]:
    """cluster name -> (its datacenter, that site's timezone): where a timeline's windows
    are read in local time."""
    if not clusters:
        return {}
    with Session(engine) as session:
        rows = session.exec(
            select(Cluster.name, Datacenter.name, Datacenter.timezone)
            .join(Vcenter, col(Vcenter.id) == Cluster.vcenter_id)
            .join(Datacenter, col(Datacenter.id) == Vcenter.datacenter_id)
            .where(col(Cluster.name).in_(clusters))
        ).all()
    return {cluster: (datacenter, zone) for cluster, datacenter, zone in rows}
