"""Compliance of a baseline: evaluate it now (kept as a snapshot), read the latest or any
earlier evaluation as JSON or CSV, its history, and the hosts drifted off the baseline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from api.crud import (
    ERRORS,
    NOT_FOUND,
    Id,
    IdFilter,
    Limit,
    Offset,
    Page,
    get_or_404,
    not_found,
    page_of,
    text_filter,
)
from api.csv_export import csv_chunks
from api.deps import SessionDep
from api.security import Operator, Viewer
from domain.compliance import HostCompliance, State
from domain.compliance_report import (
    CSV_COLUMNS,
    ClusterSummary,
    DriftChange,
    Summary,
    by_cluster,
    csv_rows,
    summarize,
)
from store.baselines import Baseline, ComplianceHost, ComplianceRun
from store.compliance import evaluate, latest_run, record_run, run_hosts

router = APIRouter(prefix="/baselines", tags=["compliance"], responses=ERRORS)


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    baseline_id: int
    catalog_id: int
    evaluated_by: str
    evaluated_at: datetime
    hosts: int
    off_baseline: int
    summary: Summary


class HostReport(HostCompliance):
    off_since: datetime | None
    drift: list[DriftChange]


class ComplianceReport(BaseModel):
    run: RunOut
    fleet: Summary
    clusters: list[ClusterSummary]
    hosts: list[HostReport]


class DriftedHost(BaseModel):
    server_id: int
    service_tag: str
    name: str
    cluster: str | None
    state: State
    off_since: datetime | None
    changes: list[DriftChange]


class DriftReport(BaseModel):
    run: RunOut
    hosts: list[DriftedHost]


def _report(session: Session, run: ComplianceRun) -> list[HostReport]:
    return [
        HostReport(**row.report, off_since=row.off_since, drift=row.drift)
        for row in run_hosts(session, run.id or 0)
    ]


def _run(session: Session, baseline_id: int, run_id: int | None) -> ComplianceRun:
    """The given evaluation of this baseline, or its latest; 404 saying what to do."""
    get_or_404(session, Baseline, baseline_id)
    if run_id is None:
        run = latest_run(session, baseline_id)
        if run is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"baseline {baseline_id} has not been evaluated yet: "
                f"POST /baselines/{baseline_id}/compliance",
            )
        return run
    run = session.get(ComplianceRun, run_id)
    if run is None or run.baseline_id != baseline_id:
        raise not_found("compliance run", run_id)
    return run


@router.post(
    "/{baseline_id}/compliance",
    response_model=ComplianceReport,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
    summary="Evaluate the baseline against the current inventory; kept as a snapshot",
)
def evaluate_baseline(baseline_id: Id, session: SessionDep, principal: Operator) -> Any:
    baseline = get_or_404(session, Baseline, baseline_id)
    run = record_run(session, baseline, evaluate(session, baseline), principal.name)
    session.commit()
    session.refresh(run)
    hosts = _report(session, run)
    return ComplianceReport(
        run=RunOut.model_validate(run), fleet=run.summary, clusters=by_cluster(hosts), hosts=hosts
    )


@router.get(
    "/{baseline_id}/compliance",
    response_model=ComplianceReport,
    responses={
        **NOT_FOUND,
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
    },
    summary="The latest evaluation (or run_id's), as JSON or CSV",
)
def read_compliance(
    baseline_id: Id,
    session: SessionDep,
    _: Viewer,
    run_id: IdFilter = None,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    state: State | None = None,
    cluster: Annotated[str | None, text_filter(128)] = None,
) -> Any:
    """``state`` and ``cluster`` narrow the hosts listed; the summaries are of them all."""
    run = _run(session, baseline_id, run_id)
    everyone = _report(session, run)
    hosts = [
        h
        for h in everyone
        if (state is None or h.state is state) and (cluster is None or h.cluster == cluster)
    ]
    if output == "csv":
        name = f"baseline-{baseline_id}-run-{run.id}.csv"
        return StreamingResponse(
            csv_chunks(CSV_COLUMNS, csv_rows(hosts)),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return ComplianceReport(
        run=RunOut.model_validate(run),
        fleet=summarize(everyone),
        clusters=by_cluster(everyone),
        hosts=hosts,
    )


@router.get(
    "/{baseline_id}/compliance/runs",
    response_model=Page[RunOut],
    responses=NOT_FOUND,
    summary="Every evaluation of the baseline, newest first: its compliance history",
)
def list_runs(
    baseline_id: Id, session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    get_or_404(session, Baseline, baseline_id)
    statement = (
        select(ComplianceRun)
        .where(ComplianceRun.baseline_id == baseline_id)
        .order_by(col(ComplianceRun.id).desc())
    )
    return page_of(session, statement, limit, offset)


@router.get(
    "/{baseline_id}/drift",
    response_model=DriftReport,
    responses=NOT_FOUND,
    summary="Hosts off the baseline at its latest evaluation: since when, and what changed",
)
def read_drift(baseline_id: Id, session: SessionDep, _: Viewer) -> DriftReport:
    run = _run(session, baseline_id, None)
    rows: list[ComplianceHost] = [r for r in run_hosts(session, run.id or 0) if r.off_since]
    return DriftReport(
        run=RunOut.model_validate(run),
        hosts=[
            DriftedHost(
                server_id=r.server_id,
                service_tag=r.report["service_tag"],
                name=r.report["name"],
                cluster=r.report["cluster"],
                state=State(r.state),
                off_since=r.off_since,
                changes=r.drift,  # type: ignore[arg-type]
            )
            for r in sorted(rows, key=lambda r: (r.off_since, r.report["name"]))
        ],
    )
