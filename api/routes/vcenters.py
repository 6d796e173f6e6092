"""vCenter Servers and the credential profile each one logs in with."""

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
    IdFilter,
    Limit,
    Offset,
    Page,
    RefId,
    apply,
    check_refs,
    delete,
    get_or_404,
    paginate,
    save,
)
from api.deps import SessionDep
from api.security import Admin, Viewer
from domain.addresses import check_https_url
from store.models import CredentialProfile, Datacenter, Vcenter

router = APIRouter(prefix="/vcenters", tags=["vcenters"], responses=ERRORS)

Name = Annotated[str, Field(min_length=1, max_length=128, examples=["vc-ams1"])]
Address = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        examples=["https://vc-ams1.example.test/sdk"],
        description="https URL of the vCenter SDK; a bare host name means https://host/sdk",
    ),
    AfterValidator(check_https_url),
]


class VcenterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    address: Address
    datacenter_id: RefId | None = None
    credential_profile_id: RefId | None = None


class VcenterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    address: Address | None = None
    datacenter_id: RefId | None = None
    credential_profile_id: RefId | None = None


class VcenterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    address: str
    datacenter_id: int | None
    credential_profile_id: int | None
    created_at: datetime


def _check(session: SessionDep, body: VcenterCreate | VcenterUpdate) -> None:
    check_refs(
        session,
        {
            "datacenter_id": (Datacenter, body.datacenter_id),
            "credential_profile_id": (CredentialProfile, body.credential_profile_id),
        },
    )


@router.get("", response_model=Page[VcenterOut])
def list_vcenters(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    datacenter_id: IdFilter = None,
) -> Page[VcenterOut]:
    statement = select(Vcenter).order_by(col(Vcenter.id))
    if datacenter_id is not None:
        statement = statement.where(Vcenter.datacenter_id == datacenter_id)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[VcenterOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=VcenterOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_vcenter(body: VcenterCreate, session: SessionDep, _: Admin) -> Vcenter:
    _check(session, body)
    return save(session, Vcenter(**body.model_dump()))


@router.get("/{vcenter_id}", response_model=VcenterOut, responses=NOT_FOUND)
def get_vcenter(vcenter_id: Id, session: SessionDep, _: Viewer) -> Vcenter:
    return get_or_404(session, Vcenter, vcenter_id)


@router.patch("/{vcenter_id}", response_model=VcenterOut, responses={**NOT_FOUND, **CONFLICT})
def update_vcenter(vcenter_id: Id, body: VcenterUpdate, session: SessionDep, _: Admin) -> Vcenter:
    row = get_or_404(session, Vcenter, vcenter_id)
    _check(session, body)
    apply(row, body)
    return save(session, row)


@router.delete(
    "/{vcenter_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_vcenter(vcenter_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, Vcenter, vcenter_id))
