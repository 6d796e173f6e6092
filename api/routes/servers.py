"""Servers: iDRAC address, Dell identity, last firmware inventory and health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from api.crud import (
    ERRORS,
    NOT_FOUND,
    Id,
    IdFilter,
    Limit,
    Offset,
    Page,
    RefId,
    UtcInstant,
    get_or_404,
    json_response,
    not_found,
    text_filter,
)
from api.crud_routes import PlainResource, add_plain_routes
from api.deps import SessionDep, StateDep
from api.security import Viewer
from domain.addresses import HOST_RULE, check_host
from domain.campaign_spec import SERVICE_TAG
from store import server_reads
from store.credentials import resolve_for_server
from store.models import Cluster, Datacenter, Server

router = APIRouter(prefix="/servers", tags=["servers"], responses=ERRORS)

Health = Literal["OK", "Warning", "Critical", "Unknown"]
ServiceTag = Annotated[str, Field(min_length=7, max_length=7, examples=["ABC1234"])]
Address = Annotated[
    str,
    Field(min_length=1, max_length=255, examples=["10.10.1.21"], description=HOST_RULE),
    AfterValidator(check_host),
]
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
    credential_profile_id: int | None = Field(
        description="The profile that opened this iDRAC at onboarding (tried in scope order)."
    )
    created_at: datetime


_SERVER_PAGE = TypeAdapter(Page[ServerOut])


class CredentialExplanation(BaseModel):
    """Which profile applies and why; the secret itself is never returned."""

    server_id: int
    profile_id: int | None
    profile_name: str | None
    scope: str | None = Field(examples=["cidr"])
    reason: str = Field(examples=["most specific match: address 10.1.2.3 is inside ..."])
    considered: list[str] = Field(description="Every matching profile, most specific first.")


@router.get("", response_model=Page[ServerOut])
async def list_servers(
    state: StateDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    datacenter_id: IdFilter = None,
    cluster_id: IdFilter = None,
    model: Annotated[str | None, text_filter(64)] = None,
    health: Health | None = None,
    service_tag: Annotated[str | None, text_filter(16)] = None,
) -> Response:
    # The hot path of a 10,000-server inventory (store/server_reads.py): plain rows, the
    # total in the same query, one validation + serialisation pass for the whole page.
    filters = {
        "datacenter_id": datacenter_id,
        "cluster_id": cluster_id,
        "model": model,
        "health": health,
        "service_tag": service_tag.upper() if service_tag else None,
    }
    if state.reads is not None:
        items, total = await server_reads.server_page_async(state.reads, filters, limit, offset)
    else:
        items, total = await anyio.to_thread.run_sync(
            server_reads.server_page, state.engine, filters, limit, offset
        )
    page = _SERVER_PAGE.validate_python(
        {"items": items, "total": total, "limit": limit, "offset": offset}
    )
    return Response(_SERVER_PAGE.dump_json(page), media_type="application/json")


@router.get("/{server_id}", response_model=ServerOut, responses=NOT_FOUND)
async def get_server(server_id: Id, state: StateDep, _: Viewer) -> Response:
    if state.reads is not None:
        row = await server_reads.get_server_async(state.reads, server_id)
    else:
        row = await anyio.to_thread.run_sync(server_reads.get_server, state.engine, server_id)
    if row is None:
        raise not_found("server", server_id)
    return json_response(ServerOut.model_validate(row))


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


add_plain_routes(
    router,
    PlainResource(
        noun="server",
        model=Server,
        out=ServerOut,
        create=ServerCreate,
        update=ServerUpdate,
        refs=lambda body: {
            "datacenter_id": (Datacenter, body.datacenter_id),
            "cluster_id": (Cluster, body.cluster_id),
        },
    ),
    reads=False,
)
