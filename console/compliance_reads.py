"""Baselines and their evaluations as the fleet and host pages show them, read through the
store's own compliance reads (blocking: run in a thread)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.compliance import HostCompliance
from store.baselines import Baseline, ComplianceHost, ComplianceRun
from store.compliance import latest_run

MAX_BASELINES = 200


@dataclass
class Evaluated:
    baseline: Baseline
    run: ComplianceRun | None


@dataclass
class HostStanding:
    """One host against one baseline's latest evaluation."""

    baseline: Baseline
    run: ComplianceRun
    report: HostCompliance


def _baselines(session: Session) -> list[Baseline]:
    statement = select(Baseline).order_by(col(Baseline.name)).limit(MAX_BASELINES)
    return list(session.exec(statement).all())


def baselines(engine: Engine) -> list[Evaluated]:
    """Every baseline with its latest evaluation (None: never evaluated)."""
    with Session(engine) as session:
        return [Evaluated(b, latest_run(session, b.id or 0)) for b in _baselines(session)]


def host_standing(engine: Engine, server_id: int) -> list[HostStanding]:
    """The host in each baseline's latest evaluation that included it."""
    found = []
    with Session(engine) as session:
        for baseline in _baselines(session):
            run = latest_run(session, baseline.id or 0)
            if run is None:
                continue
            row = session.exec(
                select(ComplianceHost).where(
                    ComplianceHost.run_id == run.id, ComplianceHost.server_id == server_id
                )
            ).first()
            if row is not None:
                found.append(HostStanding(baseline, run, HostCompliance(**row.report)))
    return found
