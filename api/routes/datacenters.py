"""Datacenters: sites with the IANA timezone their windows are expressed in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Offset,
    Page,
    apply,
    delete,
    get_or_404,
    paginate,
    save,
    text_filter,
)
from api.deps import SessionDep
from api.security import Admin, Viewer
from domain.campaign_spec import check_timezone
from store.models import Datacenter

router = APIRouter(prefix="/datacenters", tags=["datacenters"], responses=ERRORS)

Timezone = Annotated[
    str, Field(max_length=64, examples=["Europe/Amsterdam"]), AfterValidator(check_timezone)
]
Name = Annotated[str, Field(min_length=1, max_length=128, examples=["ams1"])]


class DatacenterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    timezone: Timezone


class DatacenterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    timezone: Timezone | None = None


class DatacenterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    timezone: str
    created_at: datetime


@router.get("", response_model=Page[DatacenterOut])
def list_datacenters(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    name: Annotated[str | None, text_filter(128)] = None,
) -> Page[DatacenterOut]:
    statement = select(Datacenter).order_by(col(Datacenter.id))
    if name is not None:
        statement = statement.where(Datacenter.name == name)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[DatacenterOut.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "", response_model=DatacenterOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT
)
def create_datacenter(body: DatacenterCreate, session: SessionDep, _: Admin) -> Datacenter:
    return save(session, Datacenter(**body.model_dump()))


@router.get("/{datacenter_id}", response_model=DatacenterOut, responses=NOT_FOUND)
def get_datacenter(datacenter_id: Id, session: SessionDep, _: Viewer) -> Datacenter:
    return get_or_404(session, Datacenter, datacenter_id)


@router.patch("/{datacenter_id}", response_model=DatacenterOut, responses={**NOT_FOUND, **CONFLICT})
def update_datacenter(
    datacenter_id: Id, body: DatacenterUpdate, session: SessionDep, _: Admin
) -> Datacenter:
    row = get_or_404(session, Datacenter, datacenter_id)
    apply(row, body)
    return save(session, row)


@router.delete(
    "/{datacenter_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_datacenter(datacenter_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, Datacenter, datacenter_id))
