"""Servers: iDRAC address, Dell identity, last firmware inventory and health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select

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
    UtcInstant,
    apply,
    check_refs,
    delete,
    get_or_404,
    json_response,
    save,
)
from api.deps import SessionDep
from api.security import Admin, Viewer
from domain.campaign_spec import SERVICE_TAG
from store.credentials import resolve_for_server
from store.models import Cluster, Datacenter, Server

router = APIRouter(prefix="/servers", tags=["servers"], responses=ERRORS)

Health = Literal["OK", "Warning", "Critical", "Unknown"]
ServiceTag = Annotated[str, Field(min_length=7, max_length=7, examples=["ABC1234"])]
Address = Annotated[str, Field(min_length=1, max_length=255, examples=["10.10.1.21"])]
Short = Annotated[str, Field(min_length=1, max_length=64)]


class FirmwareItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component_id: Annotated[str, Field(min_length=1, max_length=32, examples=["159"])]
    name: Annotated[str, Field(max_length=255, examples=["BIOS"])]
    version: Annotated[str, Field(min_length=1, max_length=64, examples=["2.19.1"])]


class _ServerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    idrac_address: Address | None = None
    model: Annotated[str, Field(max_length=64, examples=["PowerEdge R650"])] | None = None
    system_id: Annotated[str, Field(max_length=16, examples=["0x0A6B"])] | None = None
    esxi_host: Annotated[str, Field(max_length=255, examples=["esx01.example.test"])] | None = None
    datacenter_id: RefId | None = None
    cluster_id: RefId | None = None
    firmware_inventory: list[FirmwareItem] | None = Field(default=None, max_length=500)
    health: Health | None = None
    last_seen_at: UtcInstant | None = None


class ServerCreate(_ServerFields):
    service_tag: ServiceTag
    idrac_address: Address

    @field_validator("service_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        value = value.upper()
        if not SERVICE_TAG.match(value):
            raise ValueError("a Dell service tag is 7 letters or digits")
        return value


class ServerUpdate(_ServerFields):
    pass


class ServerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    service_tag: str
    idrac_address: str
    model: str | None
    system_id: str | None
    esxi_host: str | None
    datacenter_id: int | None
    cluster_id: int | None
    firmware_inventory: list[FirmwareItem] | None
    health: str | None
    last_seen_at: datetime | None
    created_at: datetime


class CredentialExplanation(BaseModel):
    """Which profile applies and why; the secret itself is never returned."""

    server_id: int
    profile_id: int | None
    profile_name: str | None
    scope: str | None = Field(examples=["cidr"])
    reason: str = Field(examples=["most specific match: iDRAC address 10.1.2.3 is inside ..."])
    considered: list[str] = Field(description="Every matching profile, most specific first.")


def _check(session: SessionDep, body: _ServerFields) -> None:
    check_refs(
        session,
        {
            "datacenter_id": (Datacenter, body.datacenter_id),
            "cluster_id": (Cluster, body.cluster_id),
        },
    )


@router.get("", response_model=Page[ServerOut])
def list_servers(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    datacenter_id: IdFilter = None,
    cluster_id: IdFilter = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    health: Health | None = None,
    service_tag: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    # Plain rows, not ORM objects: this is the hot path of a 10,000-server inventory.
    table = Server.__table__  # type: ignore[attr-defined]
    statement = select(table).order_by(table.c.id)
    for column, value in (
        ("datacenter_id", datacenter_id),
        ("cluster_id", cluster_id),
        ("model", model),
        ("health", health),
        ("service_tag", service_tag.upper() if service_tag else None),
    ):
        if value is not None:
            statement = statement.where(table.c[column] == value)
    total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    rows = session.execute(statement.limit(limit).offset(offset)).mappings().all()
    items = [ServerOut.model_validate(dict(row)) for row in rows]
    return json_response(Page[ServerOut](items=items, total=total, limit=limit, offset=offset))


@router.post("", response_model=ServerOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_server(body: ServerCreate, session: SessionDep, _: Admin) -> Server:
    _check(session, body)
    return save(session, Server(**body.model_dump()))


@router.get("/{server_id}", response_model=ServerOut, responses=NOT_FOUND)
def get_server(server_id: Id, session: SessionDep, _: Viewer) -> Response:
    return json_response(ServerOut.model_validate(get_or_404(session, Server, server_id)))


@router.patch("/{server_id}", response_model=ServerOut, responses={**NOT_FOUND, **CONFLICT})
def update_server(server_id: Id, body: ServerUpdate, session: SessionDep, _: Admin) -> Server:
    row = get_or_404(session, Server, server_id)
    _check(session, body)
    apply(row, body)
    return save(session, row)


@router.delete(
    "/{server_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_server(server_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, Server, server_id))


@router.get("/{server_id}/credential", response_model=CredentialExplanation, responses=NOT_FOUND)
def explain_credential(server_id: Id, session: SessionDep, _: Viewer) -> CredentialExplanation:
    server = get_or_404(session, Server, server_id)
    resolution = resolve_for_server(session, server)
    return CredentialExplanation(
        server_id=server_id,
        profile_id=resolution.profile_id,
        profile_name=resolution.name,
        scope=resolution.scope.value if resolution.scope else None,
        reason=resolution.reason,
        considered=list(resolution.considered),
    )
