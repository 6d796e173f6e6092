"""The read-only pages: fleet, host, campaign list."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session

from api.campaign_live import settle_open_campaigns
from api.campaign_status import status_text
from api.crud import MAX_ID, Id
from api.deps import StateDep
from api.routes.inventory import server_health
from api.routes.servers import Health
from console import compliance_reads, reads
from console.compliance_view import MARKS
from console.guard import viewer
from console.render import error_page, page

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("", name="console_home")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/fleet", status.HTTP_303_SEE_OTHER)


class FleetFilters(BaseModel):
    """The fleet form's fields; a field left at "all" arrives empty and means no filter."""

    model_config = ConfigDict(extra="ignore")
    datacenter_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    cluster_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    health: Health | None = None
    service_tag: Annotated[str, Field(max_length=16, pattern=r"^[A-Za-z0-9]*$")] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_all(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("service_tag")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else None


@router.get("/fleet", response_class=HTMLResponse, name="console_fleet")
async def fleet(request: Request, state: StateDep) -> Response:
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    try:
        filters = FleetFilters.model_validate(dict(request.query_params)).model_dump()
    except ValidationError as exc:
        wrong = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        return error_page(request, state, principal, 422, f"invalid filter: {wrong}")
    view = await anyio.to_thread.run_sync(reads.fleet, state.engine, filters)
    evaluated = await anyio.to_thread.run_sync(compliance_reads.baselines, state.engine)
    return page(
        request,
        state,
        "fleet.html",
        principal,
        view=view,
        filters=filters,
        health_order=reads.HEALTH_ORDER,
        baselines=evaluated,
    )


@router.get("/hosts/{server_id}", response_class=HTMLResponse, name="console_host")
async def host(server_id: Id, request: Request, state: StateDep) -> Response:
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    view = await anyio.to_thread.run_sync(reads.host, state.engine, server_id)
    if view is None:
        return error_page(request, state, principal, 404, f"server {server_id} does not exist")

    def health_of() -> object:
        with Session(state.engine) as session:
            return server_health(server_id, session, principal)

    health = await anyio.to_thread.run_sync(health_of)
    standing = await anyio.to_thread.run_sync(
        compliance_reads.host_standing, state.engine, server_id
    )
    return page(
        request,
        state,
        "host.html",
        principal,
        view=view,
        health=health,
        standing=standing,
        marks=MARKS,
    )


@router.get("/campaigns", response_class=HTMLResponse, name="console_campaigns")
async def campaigns(
    request: Request, state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> Response:
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    await settle_open_campaigns(state)  # as the API's list does: ended ones read as ended
    rows = await anyio.to_thread.run_sync(reads.campaigns, state.engine, limit)
    return page(
        request, state, "campaigns.html", principal, campaigns=rows, status_text=status_text
    )
