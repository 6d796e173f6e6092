"""Evaluating a baseline against the stored inventory, and its kept compliance history.

The hosts in scope are read with their datacenter and cluster names (a server's own
datacenter, else its cluster's vCenter's); the pure rules in :mod:`domain.compliance` do
the rest. Recording a run computes each host's drift against its previous evaluation of
the same baseline, so history is append-only and drift needs no second pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from domain.applicability import system_id_key
from domain.baseline import BaselineFilters, BaselineScope
from domain.compliance import OFF_BASELINE, HostCompliance, HostFacts, Installed, evaluate_host
from domain.compliance_report import HostDrift, drift, summarize
from store.baselines import Baseline, ComplianceHost, ComplianceRun
from store.catalog_reads import components_for_systems
from store.models import Cluster, Datacenter, Server, Vcenter, utcnow


def hosts_in_scope(session: Session, scope: BaselineScope) -> list[HostFacts]:
    """Every server the scope covers, ordered by datacenter, cluster and name."""
    datacenters = {d.id: d.name for d in session.exec(select(Datacenter))}
    vcenters = {v.id: v.datacenter_id for v in session.exec(select(Vcenter))}
    clusters = {c.id: c for c in session.exec(select(Cluster))}
    hosts = []
    for server in session.exec(select(Server).order_by(col(Server.id))):
        cluster = clusters.get(server.cluster_id)
        site = server.datacenter_id or (vcenters.get(cluster.vcenter_id) if cluster else None)
        facts = HostFacts(
            server_id=server.id or 0,
            service_tag=server.service_tag,
            name=server.esxi_host or server.service_tag,
            datacenter=datacenters.get(site),
            cluster=cluster.name if cluster else None,
            model=server.model,
            system_id=server.system_id,
            firmware=(
                [Installed(**item) for item in server.firmware_inventory]
                if server.firmware_inventory is not None
                else None
            ),
        )
        if scope.covers(facts.datacenter, facts.cluster, (facts.name, facts.service_tag)):
            hosts.append(facts)
    return sorted(hosts, key=lambda h: (h.datacenter or "", h.cluster or "", h.name))


def _system_ids(hosts: Sequence[HostFacts]) -> set[str]:
    found = set()
    for host in hosts:
        try:
            found.add(system_id_key(host.system_id or ""))
        except ValueError:
            continue  # reported as unknown by the evaluation
    return found


def evaluate(session: Session, baseline: Baseline) -> list[HostCompliance]:
    """Each host in the baseline's scope, measured against it now."""
    hosts = hosts_in_scope(session, BaselineScope.model_validate(baseline.scope))
    catalog = components_for_systems(session, baseline.catalog_id, _system_ids(hosts))
    filters = BaselineFilters.model_validate(baseline.filters)
    return [evaluate_host(host, catalog, filters) for host in hosts]


def _previous(session: Session, baseline_id: int) -> dict[int, ComplianceHost]:
    """Each server's row in its latest earlier run of this baseline."""
    latest = (
        select(func.max(ComplianceHost.id))
        .where(ComplianceHost.baseline_id == baseline_id)
        .group_by(col(ComplianceHost.server_id))
    )
    rows = session.exec(select(ComplianceHost).where(col(ComplianceHost.id).in_(latest)))
    return {row.server_id: row for row in rows}


def stored_drift(row: ComplianceHost) -> HostDrift:
    return HostDrift(off=row.state in OFF_BASELINE, off_since=row.off_since, changes=row.drift)


def record_run(
    session: Session, baseline: Baseline, hosts: list[HostCompliance], who: str
) -> ComplianceRun:
    """Store one evaluation and each host's drift; the caller commits."""
    assert baseline.id is not None
    now = utcnow()
    previous = _previous(session, baseline.id)
    run = ComplianceRun(
        baseline_id=baseline.id,
        catalog_id=baseline.catalog_id,
        evaluated_by=who,
        evaluated_at=now,
        hosts=len(hosts),
        off_baseline=sum(h.state in OFF_BASELINE for h in hosts),
        summary=summarize(hosts).model_dump(mode="json"),
    )
    session.add(run)
    session.flush()
    for host in hosts:
        before = previous.get(host.server_id)
        moved = drift(
            HostCompliance.model_validate(before.report) if before else None,
            stored_drift(before) if before else None,
            host,
            now,
        )
        session.add(
            ComplianceHost(
                run_id=run.id or 0,
                baseline_id=baseline.id,
                server_id=host.server_id,
                state=host.state.value,
                report=host.model_dump(mode="json"),
                off_since=moved.off_since,
                drift=[c.model_dump(mode="json") for c in moved.changes],
            )
        )
    return run


def latest_run(session: Session, baseline_id: int) -> ComplianceRun | None:
    return session.exec(
        select(ComplianceRun)
        .where(ComplianceRun.baseline_id == baseline_id)
        .order_by(col(ComplianceRun.id).desc())
        .limit(1)
    ).first()


def run_hosts(session: Session, run_id: int) -> list[ComplianceHost]:
    statement = select(ComplianceHost).where(ComplianceHost.run_id == run_id)
    return list(session.exec(statement.order_by(col(ComplianceHost.id))))


def forget(session: Session, baseline_id: int) -> None:
    """Remove a baseline's history (before the baseline itself); the caller commits."""
    for model in (ComplianceHost, ComplianceRun):
        session.exec(delete(model).where(col(model.baseline_id) == baseline_id))  # type: ignore[call-overload]


def report_of(row: ComplianceHost) -> dict[str, Any]:
    """A host row as exported: its report plus its drift."""
    return {**row.report, "off_since": row.off_since, "drift": row.drift}
