"""Campaigns: stored and validated here, executed by ``CampaignWorkflow`` in Temporal.

The workflow contract (names, input, signals, update, query) is in docs/api.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Message,
    Offset,
    Page,
    RefId,
    get_or_404,
    invalid,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.routes.windows import to_window
from api.security import Operator, Viewer
from domain.campaign_spec import (
    CAMPAIGN_WORKFLOW,
    QUERY_STATUS,
    SIGNAL_PAUSE,
    SIGNAL_RESUME,
    UPDATE_ABORT,
    AbortRequest,
    CampaignSpec,
    CampaignStartInput,
    campaign_workflow_id,
    positions,
)
from domain.temporal_names import CAMPAIGN_ID, TaskQueue
from store.models import (
    Campaign,
    Cluster,
    FirmwarePackage,
    HostUpdate,
    MaintenanceWindow,
    Server,
    utcnow,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=ERRORS)

QUERY_TIMEOUT = timedelta(seconds=2)
ACCEPT_TIMEOUT = timedelta(seconds=5)
Status = Literal[
    "created",
    "running",
    "paused",
    "aborting",
    "aborted",
    "completed",
    "failed",
    "terminated",
    "canceled",
    "timed_out",
]
TEMPORAL_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": Message, "description": "Temporal unreachable, or no worker answered"}
}
_CLOSED = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CANCELED: "canceled",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "running",
}


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=128, examples=["BIOS 2.19 rollout"])]
    spec: CampaignSpec
    window_ids: list[RefId] = Field(
        default_factory=list,
        max_length=50,
        description="Stored maintenance windows to copy into spec.windows.",
    )


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    spec: CampaignSpec
    status: Status
    workflow_id: str | None
    run_id: str | None
    created_by: str
    abort_reason: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime


class LiveStatus(BaseModel):
    available: bool = Field(description="True when the running workflow answered the query.")
    execution_status: str | None = Field(examples=["RUNNING"])
    status: dict[str, Any] | None = Field(description="The workflow's `status` query result.")
    detail: str | None = Field(examples=["no worker answered the status query within 2s"])
    clusters: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each running cluster rollout's `status` query: state, why it waits "
        "(window, capacity, pause), hosts running with their current step, pending hosts.",
    )


class CampaignDetail(CampaignOut):
    live: LiveStatus | None = Field(description="Null until the campaign is started.")


class HostUpdateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    server_id: int
    attempt: int
    status: str
    step: str | None
    detail: str | None
    started_at: datetime | None
    finished_at: datetime | None


def _check_references(session: Session, body: CampaignCreate) -> CampaignSpec:
    """Names and ids in the spec must exist; returns the spec with stored windows copied in."""
    targets = body.spec.targets
    for field, column, values in (
        ("clusters", Cluster.name, targets.clusters),
        ("hosts", Server.esxi_host, targets.hosts),
        ("service_tags", Server.service_tag, targets.service_tags),
    ):
        if values:
            found = set(session.exec(select(column).where(col(column).in_(values))).all())
            missing = [index for index, v in enumerate(values) if v not in found]
            if missing:
                raise invalid(field, f"unknown at {positions(missing)}", "body.spec.targets")
    for index, item in enumerate(body.spec.firmware):
        package = session.get(FirmwarePackage, item.package_id)
        where = f"body.spec.firmware.{index}"
        if package is None:
            raise invalid("package_id", f"package {item.package_id} does not exist", where)
        if (package.component_id, package.version) != (item.component_id, item.version):
            raise invalid(
                "package_id",
                f"package {package.id} is component {package.component_id} version "
                f"{package.version}, not {item.component_id} {item.version}",
                where,
            )
    windows = list(body.spec.windows)
    for window_id in body.window_ids:
        row = session.get(MaintenanceWindow, window_id)
        if row is None:
            raise invalid("window_ids", f"window {window_id} does not exist")
        windows.append(to_window(row))
    try:  # validated again: the copied windows count towards the spec's limits
        return CampaignSpec.model_validate({**dict(body.spec), "windows": windows})
    except ValidationError as exc:
        raise invalid("window_ids", "; ".join(e["msg"] for e in exc.errors())) from None


@router.post(
    "", response_model=CampaignOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT
)
def create_campaign(body: CampaignCreate, session: SessionDep, principal: Operator) -> Campaign:
    spec = _check_references(session, body)
    return save(
        session,
        Campaign(name=body.name, spec=spec.model_dump(mode="json"), created_by=principal.name),
    )


@router.get("", response_model=Page[CampaignOut])
def list_campaigns(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    name: Annotated[str | None, Query(max_length=128)] = None,
    created_by: Annotated[str | None, Query(max_length=255)] = None,
) -> Page[CampaignOut]:
    statement = select(Campaign).order_by(col(Campaign.id).desc())
    for column, value in (
        (Campaign.status, status_filter),
        (Campaign.name, name),
        (Campaign.created_by, created_by),
    ):
        if value is not None:
            statement = statement.where(column == value)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[CampaignOut.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{campaign_id}/hosts", response_model=Page[HostUpdateOut], responses=NOT_FOUND)
def list_host_updates(
    campaign_id: Id, session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[HostUpdateOut]:
    get_or_404(session, Campaign, campaign_id)
    statement = (
        select(HostUpdate).where(HostUpdate.campaign_id == campaign_id).order_by(col(HostUpdate.id))
    )
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[HostUpdateOut.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- endpoints that talk to Temporal (async; the database through a worker thread) ---


def _load(state: StateDep, campaign_id: int) -> Campaign:
    with Session(state.engine) as session:
        return get_or_404(session, Campaign, campaign_id)


def _update(state: StateDep, campaign_id: int, **changes: Any) -> Campaign:
    with Session(state.engine) as session:
        row = get_or_404(session, Campaign, campaign_id)
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        return save(session, row)


async def _client(state: StateDep) -> Client:
    try:
        return await state.temporal_client()
    except (RuntimeError, OSError, TimeoutError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"Temporal at {state.settings.temporal_address} is unreachable: "
            f"{type(exc).__name__}",
        ) from None


async def _started_handle(state: StateDep, campaign: Campaign) -> WorkflowHandle[Any, Any]:
    if campaign.workflow_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="campaign has not been started")
    return (await _client(state)).get_workflow_handle(campaign.workflow_id)


@router.post(
    "/{campaign_id}/start",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **TEMPORAL_DOWN},
    summary="Start the campaign workflow (idempotent: id campaign-<id>)",
)
async def start_campaign(campaign_id: Id, state: StateDep, _: Operator) -> Campaign:
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    client = await _client(state)
    workflow_id = campaign_workflow_id(campaign_id)
    try:
        handle = await client.start_workflow(
            CAMPAIGN_WORKFLOW,
            CampaignStartInput(
                campaign_id=campaign_id, spec=CampaignSpec.model_validate(campaign.spec)
            ),
            id=workflow_id,
            task_queue=TaskQueue.CAMPAIGNS,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(CAMPAIGN_ID, str(campaign_id))]
            ),
        )
    except RPCError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"Temporal refused the start: {exc.message}"
        ) from None
    if campaign.workflow_id == workflow_id and campaign.run_id == handle.result_run_id:
        return campaign
    return await anyio.to_thread.run_sync(
        lambda: _update(
            state,
            campaign_id,
            workflow_id=workflow_id,
            run_id=handle.result_run_id,
            status="running",
            started_at=campaign.started_at or utcnow(),
        )
    )


async def _signal(state: StateDep, campaign_id: int, signal: str, new_status: str) -> Campaign:
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    handle = await _started_handle(state, campaign)
    try:
        await handle.signal(signal)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail="the campaign workflow is no longer running"
            ) from None
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.message) from None
    if campaign.status not in ("running", "paused"):  # e.g. aborting: a resume must not hide it
        return campaign
    return await anyio.to_thread.run_sync(lambda: _update(state, campaign_id, status=new_status))


@router.post(
    "/{campaign_id}/pause",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Pause: no new host starts; hosts in flight finish (signal `pause`)",
)
async def pause_campaign(campaign_id: Id, state: StateDep, _: Operator) -> Campaign:
    return await _signal(state, campaign_id, SIGNAL_PAUSE, "paused")


@router.post(
    "/{campaign_id}/resume",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Resume a paused campaign (signal `resume`)",
)
async def resume_campaign(campaign_id: Id, state: StateDep, _: Operator) -> Campaign:
    return await _signal(state, campaign_id, SIGNAL_RESUME, "running")


@router.post(
    "/{campaign_id}/abort",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Abort with a reason (update `abort`, accepted or rejected at once)",
)
async def abort_campaign(
    campaign_id: Id, body: AbortRequest, state: StateDep, _: Operator
) -> Campaign:
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    handle = await _started_handle(state, campaign)
    # Recorded before asking: the workflow may close right after accepting, and a reader in
    # that gap must already see "aborting" (it then closes as "aborted", not "completed").
    previous = (campaign.status, campaign.abort_reason)
    aborting = await anyio.to_thread.run_sync(
        lambda: _update(state, campaign_id, status="aborting", abort_reason=body.reason)
    )
    try:
        # The update handler only records the request and returns; the workflow winds
        # down afterwards. So waiting for its result is waiting for acceptance.
        await handle.execute_update(UPDATE_ABORT, body, rpc_timeout=ACCEPT_TIMEOUT)
    except Exception as exc:
        await anyio.to_thread.run_sync(
            lambda: _update(state, campaign_id, status=previous[0], abort_reason=previous[1])
        )
        raise _abort_refused(exc) from None
    return aborting


def _abort_refused(exc: Exception) -> Exception:
    """The HTTP answer for an abort the workflow did not accept."""
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause.message if exc.cause else "rejected"
        return HTTPException(status.HTTP_409_CONFLICT, detail=f"abort rejected: {cause}")
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"no campaign worker accepted the abort within {ACCEPT_TIMEOUT.seconds}s "
            "(is a worker running?); it may still apply once a worker picks the workflow up",
        )
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return HTTPException(
                status.HTTP_409_CONFLICT, detail="the campaign workflow is no longer running"
            )
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.message)
    return exc


@router.get("/{campaign_id}", response_model=CampaignDetail, responses=NOT_FOUND)
async def get_campaign(campaign_id: Id, state: StateDep, _: Viewer) -> CampaignDetail:
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    live = await _live(state, campaign) if campaign.workflow_id else None
    if live is not None and live.execution_status in {s.name for s in _CLOSED}:
        closed = _CLOSED[WorkflowExecutionStatus[live.execution_status]]
        final = "aborted" if campaign.status == "aborting" else closed
        if final != campaign.status:
            campaign = await anyio.to_thread.run_sync(
                lambda: _update(state, campaign_id, status=final)
            )
    return CampaignDetail.model_validate(
        {**CampaignOut.model_validate(campaign).model_dump(), "live": live}
    )


async def _final(handle: WorkflowHandle[Any, Any], execution: str | None) -> LiveStatus:
    """A finished campaign's result (final state, every host's outcome) in place of a query."""
    try:
        result = await handle.result(rpc_timeout=QUERY_TIMEOUT)
    except Exception as exc:
        detail = f"the final result could not be read ({type(exc).__name__})"
        return LiveStatus(available=False, execution_status=execution, status=None, detail=detail)
    status_dict = result if isinstance(result, dict) else {"value": result}
    return LiveStatus(available=True, execution_status=execution, status=status_dict, detail=None)


async def _live(state: StateDep, campaign: Campaign) -> LiveStatus:
    """Live state from Temporal; any failure degrades to the stored record plus a reason."""
    try:
        handle = (await state.temporal_client()).get_workflow_handle(campaign.workflow_id or "")
        description = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except Exception as exc:
        return LiveStatus(
            available=False,
            execution_status=None,
            status=None,
            detail=f"Temporal unavailable ({type(exc).__name__}); showing the stored state",
        )
    execution = description.status.name if description.status else None
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return await _final(handle, execution)
    if description.status != WorkflowExecutionStatus.RUNNING:
        return LiveStatus(available=False, execution_status=execution, status=None, detail=None)
    try:
        result = await handle.query(QUERY_STATUS, rpc_timeout=QUERY_TIMEOUT)
    except Exception as exc:
        return LiveStatus(
            available=False,
            execution_status=execution,
            status=None,
            detail=f"no worker answered the `{QUERY_STATUS}` query within "
            f"{QUERY_TIMEOUT.total_seconds():g}s ({type(exc).__name__}); "
            "showing the stored state",
        )
    status_dict = result if isinstance(result, dict) else {"value": result}
    clusters = await _cluster_statuses(await state.temporal_client(), campaign, status_dict)
    return LiveStatus(
        available=True,
        execution_status=execution,
        status=status_dict,
        detail=None,
        clusters=clusters,
    )


async def _cluster_statuses(
    client: Client, campaign: Campaign, status_dict: dict[str, Any]
) -> list[dict[str, Any]]:
    """Ask each cluster rollout, and each of its running hosts, where it stands."""
    found = []
    for name in status_dict.get("clusters") or []:
        handle = client.get_workflow_handle(f"{campaign.workflow_id}-cluster-{name}")
        try:
            cluster = await handle.query(QUERY_STATUS, rpc_timeout=QUERY_TIMEOUT)
        except Exception:  # noqa: S112  (finished or not started: the campaign status covers it)
            continue
        running = cluster.get("running") or {}
        for tag in running:
            host = client.get_workflow_handle(f"{campaign.workflow_id}-host-{tag}")
            try:
                running[tag] = await host.query("current_step", rpc_timeout=QUERY_TIMEOUT)
            except Exception:  # noqa: S112  (just finished: the next read shows its outcome)
                continue
        found.append(cluster)
    return found
