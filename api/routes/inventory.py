"""Inventory sweeps (InventorySweepWorkflow) on demand, their records, and each server's
health: current, its readings over time, and its changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.crud import ERRORS, NOT_FOUND, Id, Limit, Offset, Page, get_or_404, paginate, save
from api.deps import SessionDep, StateDep
from api.security import Operator, Viewer
from api.workflow_start import TEMPORAL_DOWN, start_recorded
from domain.inventory import WORKFLOW_NAME, Sensor, SweepStart, sweep_workflow_id
from store.inventory import InventorySweep, ServerReading, fail_sweep
from store.models import Server

sweeps = APIRouter(prefix="/inventory-sweeps", tags=["inventory"], responses=ERRORS)
servers = APIRouter(prefix="/servers", tags=["inventory"], responses=ERRORS)


class Unreachable(BaseModel):
    server_id: int
    service_tag: str
    idrac_address: str
    error: str | None


class SweepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    trigger: str = Field(examples=["schedule"], description="api or schedule")
    status: str = Field(examples=["completed"], description="running, completed or failed")
    workflow_id: str | None
    created_by: str
    servers: int = Field(description="managed servers when the sweep began")
    read: int = Field(description="iDRACs that answered")
    unreachable: int = Field(
        description="iDRACs that did not, or answered as another machine (service tag "
        "mismatch): listed in unreachable_servers"
    )
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class SweepDetail(SweepOut):
    unreachable_servers: list[Unreachable]


class ReadingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sweep_id: int
    taken_at: datetime
    reachable: bool
    error: str | None
    health: str | None
    health_was: str | None = Field(description="the health before, when it changed")
    health_changed: bool
    rollups: dict[str, str]
    sensors: list[Sensor]
    firmware: list[dict[str, Any]] | None = Field(
        description="installed firmware, when it differed from what was stored before"
    )
    service_tag: str | None = Field(description="the machine that answered at the address")
    system_id: str | None = Field(examples=["0x0A6B"])
    tag_mismatch: bool = Field(
        description="another machine than the server answered: nothing of it was stored"
    )


class HealthChange(BaseModel):
    taken_at: datetime
    was: str | None
    now: str | None


class ServerHealthOut(BaseModel):
    server_id: int
    service_tag: str
    health: str | None = Field(description="from the latest reading that answered")
    last_seen_at: datetime | None
    latest: ReadingOut | None = Field(description="the latest sweep's reading, answered or not")
    changes: list[HealthChange] = Field(description="health changes, newest first (at most 50)")


@sweeps.post(
    "",
    response_model=SweepOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=TEMPORAL_DOWN,
    summary="Read every managed iDRAC's firmware inventory and health now",
)
async def start_sweep(session: SessionDep, state: StateDep, principal: Operator) -> InventorySweep:
    run = await anyio.to_thread.run_sync(
        save, session, InventorySweep(trigger="api", created_by=principal.name)
    )
    sweep_id = run.id or 0
    start = SweepStart(sweep_id=sweep_id)
    return await start_recorded(
        state, session, run, WORKFLOW_NAME, start, sweep_workflow_id(sweep_id), fail_sweep
    )


@sweeps.get("", response_model=Page[SweepOut])
def list_sweeps(
    session: SessionDep, _: Viewer, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    statement = select(InventorySweep).order_by(col(InventorySweep.id).desc())
    items, total = paginate(session, statement, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@sweeps.get("/{sweep_id}", response_model=SweepDetail, responses=NOT_FOUND)
def get_sweep(sweep_id: Id, session: SessionDep, _: Viewer) -> dict[str, Any]:
    sweep = get_or_404(session, InventorySweep, sweep_id)
    missed = session.exec(
        select(ServerReading, Server)
        .join(Server, ServerReading.server_id == Server.id)  # type: ignore[arg-type]
        .where(ServerReading.sweep_id == sweep_id, col(ServerReading.reachable).is_(False))
        .order_by(col(ServerReading.server_id))
    ).all()
    unreachable = [
        Unreachable(
            server_id=server.id or 0,
            service_tag=server.service_tag,
            idrac_address=server.idrac_address,
            error=reading.error,
        )
        for reading, server in missed
    ]
    return {**SweepOut.model_validate(sweep).model_dump(), "unreachable_servers": unreachable}


def _readings(server_id: int) -> Any:
    return (
        select(ServerReading)
        .where(ServerReading.server_id == server_id)
        .order_by(col(ServerReading.id).desc())
    )


def _changes(session: Session, server_id: int) -> list[HealthChange]:
    rows = session.exec(
        _readings(server_id).where(col(ServerReading.health_changed).is_(True)).limit(50)
    ).all()
    return [HealthChange(taken_at=r.taken_at, was=r.health_was, now=r.health) for r in rows]


@servers.get("/{server_id}/health", response_model=ServerHealthOut, responses=NOT_FOUND)
def server_health(server_id: Id, session: SessionDep, _: Viewer) -> ServerHealthOut:
    """Current health, the latest reading with its rollups and sensors, and the changes."""
    server = get_or_404(session, Server, server_id)
    latest = session.exec(_readings(server_id).limit(1)).first()
    return ServerHealthOut(
        server_id=server_id,
        service_tag=server.service_tag,
        health=server.health,
        last_seen_at=server.last_seen_at,
        latest=ReadingOut.model_validate(latest) if latest else None,
        changes=_changes(session, server_id),
    )


@servers.get("/{server_id}/readings", response_model=Page[ReadingOut], responses=NOT_FOUND)
def server_readings(
    server_id: Id, session: SessionDep, _: Viewer, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Every sweep's reading of the server, newest first: the history."""
    get_or_404(session, Server, server_id)
    items, total = paginate(session, _readings(server_id), limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


router = APIRouter()
router.include_router(sweeps)
router.include_router(servers)
