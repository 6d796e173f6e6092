"""Validation results in the store: which login to use, the server each iDRAC is, the
verdict, and which servers campaigns must leave alone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.credential_scope import ServerFacts, resolve
from domain.discovery import CredentialStatus
from domain.onboarding import IdracFacts, held_reason, judge, reason
from store.credentials import all_scopes, server_facts
from store.models import Cluster, Server, utcnow
from store.onboarding import DiscoveryFinding, Enrollment, ServerValidation


@dataclass(frozen=True)
class Target:
    enrollment_id: int
    address: str
    profile_ids: tuple[int, ...]  # the logins to try, most specific first; () when none applies


def enrollment_ids(engine: Engine, wanted: list[int] | None, run_id: int | None) -> list[int]:
    """The enrollments to validate: those named, those a discovery run found, or all."""
    with Session(engine) as session:
        query = select(Enrollment.id).order_by(col(Enrollment.id))
        if wanted is not None:
            query = query.where(col(Enrollment.id).in_(wanted))
        if run_id is not None:
            found = select(DiscoveryFinding.address).where(DiscoveryFinding.run_id == run_id)
            query = query.where(col(Enrollment.address).in_(found))
        return [i for i in session.exec(query).all() if i is not None]


def targets(session: Session, ids: list[int]) -> list[Target]:
    """Each enrollment's logins: its own profile (chosen, or the one discovery found to
    open it), else the iDRAC profiles that apply to its server or its address, in order."""
    profiles = all_scopes(session)
    found = []
    for row in session.exec(select(Enrollment).where(col(Enrollment.id).in_(ids))).all():
        server = session.get(Server, row.server_id) if row.server_id else None
        if row.credential_profile_id is not None:
            candidates: tuple[int, ...] = (row.credential_profile_id,)
        elif server is not None:
            candidates = resolve(profiles, server_facts(server)).candidates
        else:
            candidates = resolve(
                profiles, ServerFacts(0, row.address, row.datacenter_id)
            ).candidates
        found.append(Target(row.id or 0, row.address, candidates))
    return found


def _server_for(session: Session, row: Enrollment, facts: IdracFacts) -> Server | None:
    """The enrollment's server: linked before, else found or created by service tag."""
    if row.server_id is not None:
        return session.get(Server, row.server_id)
    tag = (facts.service_tag or row.service_tag or "").upper()
    if not tag or len(tag) > 16:
        return None
    server = session.exec(select(Server).where(Server.service_tag == tag)).first()
    return server or Server(service_tag=tag, idrac_address=row.address)


def record(engine: Engine, enrollment_id: int, facts: IdracFacts) -> bool:
    """Link or create the server, store what was read, which profile opened it and the
    verdict; returns passed."""
    with Session(engine) as session:
        row = session.get(Enrollment, enrollment_id)
        if row is None:
            raise LookupError(f"enrollment {enrollment_id} does not exist")
        server = _server_for(session, row, facts)
        if server is not None:
            _update_server(server, row, facts)
            if facts.credentials is CredentialStatus.OK:
                server.credential_profile_id = facts.credential_profile_id
            session.add(server)
            session.flush()
            row.server_id, row.service_tag = server.id, server.service_tag
            session.add(row)
        cluster = session.get(Cluster, server.cluster_id) if server and server.cluster_id else None
        results = judge(
            facts, server.esxi_host if server else None, cluster.name if cluster else None
        )
        verdict = session.exec(
            select(ServerValidation).where(ServerValidation.enrollment_id == enrollment_id)
        ).first() or ServerValidation(enrollment_id=enrollment_id, passed=False, checks=[])
        verdict.server_id = server.id if server else None
        verdict.passed = all(r.ok for r in results)
        verdict.reason = (reason(results) or "")[:2000] or None
        verdict.checks = [r.model_dump(mode="json") for r in results]
        verdict.validated_at = utcnow()
        session.add(verdict)
        session.commit()
        return verdict.passed


def _update_server(server: Server, row: Enrollment, facts: IdracFacts) -> None:
    """What the iDRAC proved overrides; where it belongs fills only what is unknown."""
    server.model = facts.model or server.model
    server.system_id = facts.system_id or server.system_id
    server.datacenter_id = server.datacenter_id or row.datacenter_id
    server.cluster_id = server.cluster_id or row.cluster_id
    server.esxi_host = server.esxi_host or row.esxi_host
    if facts.inventory:
        server.firmware_inventory = [item.model_dump() for item in facts.inventory]
    if facts.health:
        server.health = facts.health
    if facts.reachable:
        server.last_seen_at = utcnow()


def held_out(session: Session) -> dict[int, str]:
    """Server id -> why campaigns leave it alone: its latest onboarding validation failed."""
    failed = session.exec(
        select(ServerValidation).where(
            col(ServerValidation.passed).is_(False), col(ServerValidation.server_id).is_not(None)
        )
    ).all()
    return {v.server_id: held_reason(v.reason) for v in failed if v.server_id}


def report(session: Session) -> list[dict[str, object]]:
    """One row per enrollment: where it stands, with every check of its latest validation."""
    verdicts = {v.enrollment_id: v for v in session.exec(select(ServerValidation)).all()}
    rows = []
    for row in session.exec(select(Enrollment).order_by(col(Enrollment.id))).all():
        verdict = verdicts.get(row.id or 0)
        rows.append(
            {
                "enrollment_id": row.id,
                "address": row.address,
                "service_tag": row.service_tag,
                "server_id": row.server_id,
                "status": "not-validated"
                if verdict is None
                else ("passed" if verdict.passed else "failed"),
                "reason": verdict.reason if verdict else None,
                "validated_at": verdict.validated_at if verdict else None,
                "checks": verdict.checks if verdict else [],
            }
        )
    return rows
