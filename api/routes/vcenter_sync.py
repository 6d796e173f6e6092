"""vCenter sync on demand (VcenterSyncWorkflow) and the record of every sync run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.crud import (
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Offset,
    Page,
    get_or_404,
    invalid,
    not_found,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer
from api.workflow_start import TEMPORAL_DOWN, start_recorded
from domain.vcenter_sync import WORKFLOW_NAME, SyncReport, SyncStart, sync_workflow_id
from store.credentials import resolve_for_vcenter
from store.models import Vcenter
from store.vcenter_sync import VcenterSyncRun, fail_sync

router = APIRouter(prefix="/vcenters", tags=["vcenters"], responses=ERRORS)


class VcenterSyncOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    vcenter_id: int
    trigger: str = Field(examples=["api"], description="api or schedule")
    status: str = Field(examples=["completed"], description="running, completed or failed")
    workflow_id: str | None
    created_by: str
    report: SyncReport | None = Field(description="set once the sync completed")
    error: str | None
    created_at: datetime
    finished_at: datetime | None


@router.post(
    "/{vcenter_id}/sync",
    response_model=VcenterSyncOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **TEMPORAL_DOWN},
    summary="Sync the vCenter's datacenters, clusters and hosts now",
)
async def start_sync(
    vcenter_id: Id, session: SessionDep, state: StateDep, principal: Admin
) -> VcenterSyncRun:
    def create() -> VcenterSyncRun:
        vcenter = get_or_404(session, Vcenter, vcenter_id)
        login = resolve_for_vcenter(session, vcenter)
        if login.profile_id is None:
            raise invalid("credential_profile_id", f"the vCenter has no login: {login.reason}")
        return save(
            session, VcenterSyncRun(vcenter_id=vcenter_id, trigger="api", created_by=principal.name)
        )

    run = await anyio.to_thread.run_sync(create)
    run_id = run.id or 0
    start = SyncStart(run_id=run_id)
    return await start_recorded(
        state, session, run, WORKFLOW_NAME, start, sync_workflow_id(run_id), fail_sync
    )


@router.get("/{vcenter_id}/syncs", response_model=Page[VcenterSyncOut], responses=NOT_FOUND)
def list_syncs(
    vcenter_id: Id, session: SessionDep, _: Viewer, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """The vCenter's sync runs, newest first (scheduled and on demand)."""
    get_or_404(session, Vcenter, vcenter_id)
    statement = (
        select(VcenterSyncRun)
        .where(VcenterSyncRun.vcenter_id == vcenter_id)
        .order_by(col(VcenterSyncRun.id).desc())
    )
    items, total = paginate(session, statement, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{vcenter_id}/syncs/{run_id}", response_model=VcenterSyncOut, responses=NOT_FOUND)
def get_sync(vcenter_id: Id, run_id: Id, session: SessionDep, _: Viewer) -> VcenterSyncRun:
    run = session.get(VcenterSyncRun, run_id)
    if run is None or run.vcenter_id != vcenter_id:
        raise not_found(f"vCenter {vcenter_id} sync run", run_id)
    return run
