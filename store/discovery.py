"""Discovery runs in the store: findings per chunk, then one diff-and-enroll transaction.

Both writes are idempotent: a chunk's findings replace that chunk's earlier attempt, and a
run finishes once (a retried finish returns the summary the first one stored).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from domain.discovery import (
    CredentialStatus,
    DiscoveryDiff,
    DiscoveryRequest,
    DiscoverySummary,
    Endpoint,
    diff_endpoints,
    in_ranges,
    target_addresses,
)
from store.models import utcnow
from store.onboarding import DiscoveredIdrac, DiscoveryFinding, DiscoveryRun, Enrollment


def save_findings(engine: Engine, run_id: int, addresses: list[str], found: list[Endpoint]) -> None:
    with Session(engine) as session:
        session.exec(  # type: ignore[call-overload]
            delete(DiscoveryFinding).where(
                col(DiscoveryFinding.run_id) == run_id, col(DiscoveryFinding.address).in_(addresses)
            )
        )
        session.add_all(
            DiscoveryFinding(run_id=run_id, address=e.address, endpoint=e.model_dump(mode="json"))
            for e in found
        )
        session.commit()


def _summary(run: DiscoveryRun, enrolled: int) -> DiscoverySummary:
    diff = DiscoveryDiff.model_validate(run.diff or {})
    return DiscoverySummary(
        run_id=run.id or 0,
        scanned=run.scanned,
        answered=run.answered,
        new=len(diff.new),
        gone=len(diff.gone),
        changed=len(diff.changed),
        unchanged=diff.unchanged,
        enrolled=enrolled,
    )


def finish_run(engine: Engine, run_id: int) -> DiscoverySummary:
    """Compare this run with what was known inside its ranges, record, enroll; one commit."""
    with Session(engine) as session:
        run = session.get(DiscoveryRun, run_id)
        if run is None:
            raise LookupError(f"discovery run {run_id} does not exist")
        if run.status in ("completed", "validating"):
            return _summary(run, (run.diff or {}).get("enrolled", 0))
        request = DiscoveryRequest.model_validate(run.request)
        found = {
            f.address: Endpoint.model_validate(f.endpoint)
            for f in session.exec(
                select(DiscoveryFinding).where(DiscoveryFinding.run_id == run_id)
            ).all()
        }
        known = {
            row.address: row
            for row in session.exec(
                select(DiscoveredIdrac).where(col(DiscoveredIdrac.gone_at).is_(None))
            ).all()
            if in_ranges(row.address, request)
        }
        diff = diff_endpoints(
            {a: Endpoint.model_validate(r.endpoint).facts() for a, r in known.items()},
            {a: e.facts() for a, e in found.items()},
        )
        now = utcnow()
        _record(session, run_id, found, now)
        for address in diff.gone:
            known[address].gone_at = now
            session.add(known[address])
        enrolled = _enroll(session, found.values()) if request.enroll else 0
        validating = request.enroll and request.validate_enrolled
        run.status, run.finished_at = ("validating", None) if validating else ("completed", now)
        run.scanned, run.answered = len(target_addresses(request)), len(found)
        run.diff = {**diff.model_dump(mode="json"), "enrolled": enrolled}
        session.add(run)
        session.commit()
        return _summary(run, enrolled)


def _record(session: Session, run_id: int, found: dict[str, Endpoint], now: Any) -> None:
    rows = {
        row.address: row
        for row in session.exec(
            select(DiscoveredIdrac).where(col(DiscoveredIdrac.address).in_(list(found)))
        ).all()
    }
    for address, endpoint in found.items():
        row = rows.get(address) or DiscoveredIdrac(
            address=address, endpoint={}, first_seen_at=now, last_run_id=run_id
        )
        row.endpoint = endpoint.model_dump(mode="json")
        row.last_seen_at, row.last_run_id, row.gone_at = now, run_id, None
        session.add(row)


def _enroll(session: Session, found: Any) -> int:
    """Enroll each new address with the profile that opened it, if one did."""
    existing = set(session.exec(select(Enrollment.address)).all())
    added = 0
    for endpoint in found:
        if endpoint.address in existing:
            continue
        opened = endpoint.credentials is CredentialStatus.OK
        session.add(
            Enrollment(
                address=endpoint.address,
                source="discovery",
                service_tag=endpoint.service_tag,
                credential_profile_id=endpoint.credential_profile_id if opened else None,
            )
        )
        added += 1
    return added


def record_validation(engine: Engine, run_id: int, validated: int, passed: int) -> None:
    """The run's validation outcome joins its diff; the run is complete."""
    with Session(engine) as session:
        run = session.get(DiscoveryRun, run_id)
        if run is None or run.status != "validating":
            return
        run.diff = {**(run.diff or {}), "validated": validated, "passed": passed}
        run.status, run.finished_at = "completed", utcnow()
        session.add(run)
        session.commit()


def fail_run(engine: Engine, run_id: int, reason: str) -> None:
    with Session(engine) as session:
        run = session.get(DiscoveryRun, run_id)
        if run is not None and run.status in ("running", "validating"):
            run.status, run.error, run.finished_at = "failed", reason[:2000], utcnow()
            session.add(run)
            session.commit()
