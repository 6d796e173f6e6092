"""Campaigns: stored and validated here, executed by ``CampaignWorkflow`` in Temporal.

The workflow contract (names, input, signals, update, query) is in docs/api.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import ValidationError
from sqlmodel import Session, col, select
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.campaign_live import observe, record, settle_open_campaigns, update_open
from api.campaign_schemas import CampaignCreate, CampaignDetail, CampaignOut, HostUpdateOut
from api.campaign_status import FINAL, Status, status_text
from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Message,
    Offset,
    Page,
    get_or_404,
    invalid,
    paginate,
    save,
    text_filter,
)
from api.deps import SessionDep, StateDep
from api.name_refs import check_names
from api.routes.windows import scoped_window
from api.security import Approver, Operator, Principal, Viewer, approver_identity
from domain.campaign_spec import (
    CAMPAIGN_WORKFLOW,
    SIGNAL_PAUSE,
    SIGNAL_RESUME,
    UPDATE_ABORT,
    UPDATE_APPROVE,
    UPDATE_REJECT,
    AbortRequest,
    ApprovalDecision,
    ApprovalRequest,
    CampaignSpec,
    CampaignStartInput,
    RejectRequest,
    campaign_workflow_id,
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

ACCEPT_TIMEOUT = timedelta(seconds=5)
TEMPORAL_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": Message, "description": "Temporal unreachable, or no worker answered"}
}


def _check_references(session: Session, body: CampaignCreate) -> CampaignSpec:
    """Names and ids in the spec must exist; returns the spec with stored windows copied in."""
    targets = body.spec.targets
    for field, column, values in (
        ("clusters", Cluster.name, targets.clusters),
        ("hosts", Server.esxi_host, targets.hosts),
        ("service_tags", Server.service_tag, targets.service_tags),
    ):
        check_names(session, field, [column], values, "body.spec.targets")
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
        windows.append(scoped_window(session, row))
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
async def list_campaigns(
    session: SessionDep,
    state: StateDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    name: Annotated[str | None, text_filter(128)] = None,
    created_by: Annotated[str | None, text_filter(255)] = None,
) -> Page[CampaignOut]:
    await settle_open_campaigns(state)
    statement = select(Campaign).order_by(col(Campaign.id).desc())
    for column, value in (
        (Campaign.status, status_filter),
        (Campaign.name, name),
        (Campaign.created_by, created_by),
    ):
        if value is not None:
            statement = statement.where(column == value)
    items, total = await anyio.to_thread.run_sync(paginate, session, statement, limit, offset)
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
    return update_open(state.engine, campaign_id, **changes)[0]


def _has_ended(campaign: Campaign) -> HTTPException:
    """409 for acting on a campaign whose workflow has closed: a campaign runs once."""
    if campaign.status in FINAL:
        text = status_text(campaign.status, campaign.status_reason)
        return HTTPException(
            status.HTTP_409_CONFLICT, detail=f"campaign {campaign.id} has ended: {text}"
        )
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail=f"campaign {campaign.id} has ended; how is not known yet (Temporal did not say)",
    )


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
    if campaign.status in FINAL:
        raise _has_ended(campaign)
    return (await _client(state)).get_workflow_handle(campaign.workflow_id)


@router.post(
    "/{campaign_id}/start",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **TEMPORAL_DOWN},
    summary="Start the campaign workflow (idempotent: id campaign-<id>; a campaign runs once)",
)
async def start_campaign(campaign_id: Id, state: StateDep, _: Operator) -> Campaign:
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    if campaign.status in FINAL:
        raise _has_ended(campaign)
    client = await _client(state)
    workflow_id = campaign_workflow_id(campaign_id)
    try:
        handle = await client.start_workflow(
            CAMPAIGN_WORKFLOW,
            CampaignStartInput(
                campaign_id=campaign_id,
                spec=CampaignSpec.model_validate(campaign.spec),
                created_by=campaign.created_by,
            ),
            id=workflow_id,
            task_queue=TaskQueue.CAMPAIGNS,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # Closed, it is not run again: its recorded end must stay what it was.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(CAMPAIGN_ID, str(campaign_id))]
            ),
        )
    except WorkflowAlreadyStartedError:  # closed before anyone recorded how it ended
        seen = await observe(state, campaign)
        raise _has_ended(await anyio.to_thread.run_sync(record, state, campaign, seen)) from None
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
    # that gap must already see "aborting"; and the abort reason is what makes a workflow
    # ended from outside afterwards (e.g. terminated) read "aborted".
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
        raise _refused(exc, "abort") from None
    return aborting


async def _decide(
    state: StateDep,
    campaign_id: int,
    update: str,
    principal: Principal,
    reason: str | None,
    cluster: str | None = None,
) -> Campaign:
    """Approve or reject (the whole campaign, or one CLUSTER of it): the right was checked
    by the route; the creator is refused here (and again by the workflow, which also
    refuses a second approval by the same user)."""
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    approver = approver_identity(principal)  # an API token decides as its minter
    if campaign.created_by in (principal.name, approver):
        minted = " (this API token was minted by it)" if approver != principal.name else ""
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"the campaign's creator cannot {update} it{minted}: another approver must",
        )
    handle = await _started_handle(state, campaign)
    decision = ApprovalDecision(approver=approver, reason=reason, cluster=cluster)
    try:
        await handle.execute_update(update, decision, rpc_timeout=ACCEPT_TIMEOUT)
    except Exception as exc:
        raise _refused(exc, update) from None
    return campaign


@router.post(
    "/{campaign_id}/approve",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Approve a campaign that waits for approval (approver right; not its creator)",
)
async def approve_campaign(
    campaign_id: Id, body: ApprovalRequest, state: StateDep, principal: Approver
) -> Campaign:
    return await _decide(state, campaign_id, UPDATE_APPROVE, principal, body.comment)


@router.post(
    "/{campaign_id}/reject",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Reject a campaign that waits for approval: it ends aborted, no host touched",
)
async def reject_campaign(
    campaign_id: Id, body: RejectRequest, state: StateDep, principal: Approver
) -> Campaign:
    return await _decide(state, campaign_id, UPDATE_REJECT, principal, body.reason)


ClusterName = Annotated[str, Path(min_length=1, max_length=255, description="Cluster name.")]


@router.post(
    "/{campaign_id}/clusters/{cluster}/approve",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Approve one cluster of a campaign approved per cluster (approver right; "
    "not its creator)",
)
async def approve_cluster(
    campaign_id: Id,
    cluster: ClusterName,
    body: ApprovalRequest,
    state: StateDep,
    principal: Approver,
) -> Campaign:
    return await _decide(state, campaign_id, UPDATE_APPROVE, principal, body.comment, cluster)


@router.post(
    "/{campaign_id}/clusters/{cluster}/reject",
    response_model=CampaignOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
    summary="Reject one cluster of a campaign approved per cluster: that cluster ends with "
    "no host touched, the others go on",
)
async def reject_cluster(
    campaign_id: Id, cluster: ClusterName, body: RejectRequest, state: StateDep, principal: Approver
) -> Campaign:
    return await _decide(state, campaign_id, UPDATE_REJECT, principal, body.reason, cluster)


def _refused(exc: Exception, what: str) -> Exception:
    """The HTTP answer for an update (abort, approve, reject) the workflow did not accept."""
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause.message if exc.cause else "rejected"
        return HTTPException(status.HTTP_409_CONFLICT, detail=f"{what} rejected: {cause}")
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"no campaign worker accepted the {what} within {ACCEPT_TIMEOUT.seconds}s "
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
    out = CampaignOut.model_validate
    if campaign.workflow_id is None:
        return CampaignDetail(**out(campaign).model_dump(), problems=[], live=None)
    seen = await observe(state, campaign)
    campaign = await anyio.to_thread.run_sync(record, state, campaign, seen)
    return CampaignDetail(**out(campaign).model_dump(), problems=seen.problems, live=seen.live)
