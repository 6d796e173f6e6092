"""Discoveries: scan explicit ranges for iDRACs (DiscoveryWorkflow) and read what was found."""

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
    check_refs,
    get_or_404,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer
from api.workflow_start import TEMPORAL_DOWN, start_recorded
from domain.discovery import (
    WORKFLOW_NAME,
    DiscoveryRequest,
    DiscoveryStart,
    Endpoint,
    discovery_workflow_id,
)
from store.discovery import fail_run
from store.models import CredentialProfile
from store.onboarding import DiscoveryFinding, DiscoveryRun

router = APIRouter(prefix="/discoveries", tags=["discovery"], responses=ERRORS)


class DiscoveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request: DiscoveryRequest
    status: str = Field(
        examples=["completed"], description="running, validating, completed or failed"
    )
    workflow_id: str | None
    created_by: str
    scanned: int
    answered: int
    diff: dict[str, Any] | None = Field(
        description="new, gone (addresses), changed (address, fields: was/now), unchanged, "
        "enrolled (and validated, passed with validate_enrolled); set once scanned"
    )
    error: str | None
    created_at: datetime
    finished_at: datetime | None


@router.post(
    "",
    response_model=DiscoveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=TEMPORAL_DOWN,
    summary="Start a discovery over explicit ranges (nothing is scanned without them)",
)
async def start_discovery(
    body: DiscoveryRequest, session: SessionDep, state: StateDep, principal: Admin
) -> DiscoveryRun:
    def create() -> DiscoveryRun:
        check_refs(
            session, {"credential_profile_id": (CredentialProfile, body.credential_profile_id)}
        )
        return save(
            session,
            DiscoveryRun(request=body.model_dump(mode="json"), created_by=principal.name),
        )

    run = await anyio.to_thread.run_sync(create)
    run_id = run.id or 0
    start = DiscoveryStart(run_id=run_id, request=body)
    return await start_recorded(
        state, session, run, WORKFLOW_NAME, start, discovery_workflow_id(run_id), fail_run
    )


@router.get("", response_model=Page[DiscoveryOut])
def list_discoveries(
    session: SessionDep, _: Viewer, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    statement = select(DiscoveryRun).order_by(col(DiscoveryRun.id).desc())
    items, total = paginate(session, statement, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{run_id}", response_model=DiscoveryOut, responses=NOT_FOUND)
def get_discovery(run_id: Id, session: SessionDep, _: Viewer) -> DiscoveryRun:
    return get_or_404(session, DiscoveryRun, run_id)


@router.get("/{run_id}/findings", response_model=Page[Endpoint], responses=NOT_FOUND)
def list_findings(
    run_id: Id, session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Every address of the run that answered a Redfish service root."""
    get_or_404(session, DiscoveryRun, run_id)
    statement = (
        select(DiscoveryFinding)
        .where(DiscoveryFinding.run_id == run_id)
        .order_by(col(DiscoveryFinding.id))
    )
    rows, total = paginate(session, statement, limit, offset)
    items = [Endpoint.model_validate(row.endpoint) for row in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
