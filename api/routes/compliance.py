"""Compliance of a baseline: evaluate it now (kept as a snapshot), read the latest or any
earlier evaluation as JSON or CSV, its history, and the hosts drifted off the baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
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
from api.deps import SessionDep, StateDep
from api.security import Operator, Viewer
from api.state import AppState
from api.workflow_start import start_workflow
from common.logging import get_logger
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
from domain.notifications import PUBLISH_WORKFLOW, EventKind, NotificationEvent, event_key
from domain.temporal_names import TaskQueue
from store.baselines import Baseline, ComplianceHost, ComplianceRun
from store.compliance import evaluate, latest_run, record_run, run_hosts

log = get_logger(__name__)
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
async def evaluate_baseline(
    baseline_id: Id, session: SessionDep, state: StateDep, principal: Operator
) -> Any:
    """Hosts that went off the baseline with this evaluation are announced (event
    ``drift.found``, through the notification rules)."""
    report, baseline_name = await anyio.to_thread.run_sync(
        _evaluate, session, baseline_id, principal.name
    )
    went_off = [h for h in report.hosts if h.off_since == report.run.evaluated_at]
    if went_off and report.run.id is not None:
        await _announce_drift(state, baseline_name, report.run.id, went_off)
    return report


def _evaluate(session: Session, baseline_id: int, who: str) -> tuple[ComplianceReport, str]:
    baseline = get_or_404(session, Baseline, baseline_id)
    run = record_run(session, baseline, evaluate(session, baseline), who)
    session.commit()
    session.refresh(run)
    hosts = _report(session, run)
    report = ComplianceReport(
        run=RunOut.model_validate(run), fleet=run.summary, clusters=by_cluster(hosts), hosts=hosts
    )
    return report, baseline.name


async def _announce_drift(
    state: AppState, baseline: str, run_id: int, hosts: list[HostReport]
) -> None:
    """Publish drift.found once per evaluation (its key); the evaluation stands either way:
    when Temporal is away the report still shows the drift, and the log says it was not
    announced."""
    listed = ", ".join(f"{h.name} [{h.service_tag}] ({h.state.value})" for h in hosts)
    event = NotificationEvent(
        key=event_key(f"compliance-run-{run_id}", EventKind.DRIFT_FOUND),
        kind=EventKind.DRIFT_FOUND,
        subject=f"baseline {baseline}: {len(hosts)} host(s) went off the baseline"[:255],
        detail=f"evaluation {run_id}: {listed}"[:2000],
        occurred_at=datetime.now(UTC),
    )
    try:
        await start_workflow(state, PUBLISH_WORKFLOW, event, event.key, TaskQueue.NOTIFY)
    except HTTPException as exc:
        log.warning("drift notification not started", run_id=run_id, reason=exc.detail)


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
