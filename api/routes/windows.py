"""Maintenance windows (recurring weekly or one-off), validated by the campaign spec's rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from sqlmodel import Session, col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    IdFilter,
    Limit,
    Offset,
    Page,
    RefId,
    check_refs,
    delete,
    get_or_404,
    invalid,
    paginate,
    save,
)
from api.deps import SessionDep
from api.security import Admin, Viewer
from domain.campaign_spec import OneOffWindow, WeeklyWindow, Window
from domain.site_windows import in_datacenter
from store.models import Datacenter, MaintenanceWindow

router = APIRouter(prefix="/windows", tags=["windows"], responses=ERRORS)
Name = Annotated[str, Field(min_length=1, max_length=128, examples=["weekend-nights"])]
_window = TypeAdapter(Window)


def _unscoped(window: Window | None) -> Window | None:
    if window is not None and (window.datacenters or window.clusters):
        raise ValueError("a stored window applies to its datacenter_id (or everywhere)")
    return window


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    datacenter_id: RefId | None = None
    window: Annotated[Window, AfterValidator(_unscoped)]


class WindowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    datacenter_id: RefId | None = None
    window: Annotated[Window | None, AfterValidator(_unscoped)] = None


class WindowOut(BaseModel):
    id: int
    name: str
    datacenter_id: int | None
    window: Window
    created_at: datetime


def to_window(row: MaintenanceWindow) -> WeeklyWindow | OneOffWindow:
    """The stored row as the domain model a campaign spec embeds."""
    fields = (
        {
            "start": row.start_time,
            "weekdays": row.weekdays,
            "duration_minutes": row.duration_minutes,
        }
        if row.kind == "weekly"
        else {"starts_at": row.starts_at, "ends_at": row.ends_at}
    )
    return _window.validate_python({"kind": row.kind, "timezone": row.timezone, **fields})


def scoped_window(session: Session, row: MaintenanceWindow) -> WeeklyWindow | OneOffWindow:
    datacenter = session.get(Datacenter, row.datacenter_id) if row.datacenter_id else None
    return in_datacenter(to_window(row), datacenter.name if datacenter else None)


def _store(row: MaintenanceWindow, window: WeeklyWindow | OneOffWindow) -> None:
    row.kind, row.timezone = window.kind, window.timezone
    if isinstance(window, WeeklyWindow):
        row.weekdays, row.start_time = window.weekdays, window.start.strftime("%H:%M")
        row.duration_minutes, row.starts_at, row.ends_at = window.duration_minutes, None, None
    else:
        row.weekdays, row.start_time, row.duration_minutes = None, None, None
        row.starts_at, row.ends_at = window.starts_at, window.ends_at


def _out(row: MaintenanceWindow) -> WindowOut:
    return WindowOut(
        id=row.id or 0,
        name=row.name,
        datacenter_id=row.datacenter_id,
        window=to_window(row),
        created_at=row.created_at,
    )


@router.get("", response_model=Page[WindowOut])
def list_windows(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    datacenter_id: IdFilter = None,
) -> Page[WindowOut]:
    statement = select(MaintenanceWindow).order_by(col(MaintenanceWindow.id))
    if datacenter_id is not None:
        statement = statement.where(MaintenanceWindow.datacenter_id == datacenter_id)
    items, total = paginate(session, statement, limit, offset)
    return Page(items=[_out(i) for i in items], total=total, limit=limit, offset=offset)


@router.post("", response_model=WindowOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_window(body: WindowCreate, session: SessionDep, _: Admin) -> WindowOut:
    check_refs(session, {"datacenter_id": (Datacenter, body.datacenter_id)})
    row = MaintenanceWindow(name=body.name, datacenter_id=body.datacenter_id, kind="", timezone="")
    _store(row, body.window)
    return _out(save(session, row))


@router.get("/{window_id}", response_model=WindowOut, responses=NOT_FOUND)
def get_window(window_id: Id, session: SessionDep, _: Viewer) -> WindowOut:
    return _out(get_or_404(session, MaintenanceWindow, window_id))


@router.patch("/{window_id}", response_model=WindowOut, responses={**NOT_FOUND, **CONFLICT})
def update_window(window_id: Id, body: WindowUpdate, session: SessionDep, _: Admin) -> WindowOut:
    row = get_or_404(session, MaintenanceWindow, window_id)
    check_refs(session, {"datacenter_id": (Datacenter, body.datacenter_id)})
    fields = body.model_fields_set
    if "name" in fields:
        if body.name is None:
            raise invalid("name", "may not be null")
        row.name = body.name
    if "datacenter_id" in fields:
        row.datacenter_id = body.datacenter_id
    if "window" in fields:
        if body.window is None:
            raise invalid("window", "may not be null")
        _store(row, body.window)
    return _out(save(session, row))


@router.delete(
    "/{window_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_window(window_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, MaintenanceWindow, window_id))
