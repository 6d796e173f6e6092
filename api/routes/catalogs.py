"""Dell catalogs: import from an upload or a URL, list them, browse their components."""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import IO, Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import col, exists, select

from api.catalog_import import DuplicateCatalogError, import_catalog
from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Offset,
    Page,
    get_or_404,
    invalid,
    page_of,
)
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer
from integrations.catalog.parser import CatalogError
from integrations.catalog.source import MAX_DOWNLOAD_BYTES, download
from store.catalog import Catalog, CatalogComponentRow, CatalogDevice, CatalogSystem

router = APIRouter(tags=["catalogs"], responses=ERRORS)
MAX_JSON_BYTES = 64 * 1024
Hex4 = Annotated[str, Query(pattern=r"^(0x)?[0-9A-Fa-f]{1,4}$")]


class CatalogUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[
        str,
        Field(
            max_length=2000,
            examples=["https://downloads.dell.com/catalog/Catalog.xml.gz"],
            description="http(s) URL of Catalog.xml or Catalog.xml.gz",
        ),
    ]


class CatalogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sha256: str | None = Field(description="SHA-256 of the catalog's XML (after any gzip)")
    source: str = Field(examples=["url:https://downloads.dell.com/catalog/Catalog.xml.gz"])
    version: str | None = Field(examples=["25.04.28"], description="Manifest@version")
    release_id: str | None
    identifier: str | None
    predecessor_id: str | None
    date_time: str | None = Field(description="Manifest@dateTime, as Dell wrote it")
    base_location: str | None = Field(examples=["downloads.dell.com"])
    base_location_protocols: str | None
    software_count: int
    inventory_count: int
    imported_by: str
    imported_at: datetime


class ComponentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int = Field(description="position in the catalog, from 1")
    kind: Literal["software", "inventory"]
    line: int
    path: str
    vendor_version: str
    dell_version: str | None
    package_id: str | None
    release_id: str | None
    name: str
    component_type: str | None
    category: str | None
    category_display: str | None
    criticality: int | None = Field(description="1 Recommended, 2 Urgent, 3 Optional")
    criticality_display: str | None
    reboot_required: bool | None
    package_type: str | None
    size: int | None
    hash_md5: str | None
    hash_sha256: str | None
    date_time: str | None
    release_date: str | None
    devices: list[dict[str, Any]]
    systems: list[dict[str, Any]]


_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CatalogUrl.model_json_schema()},
            "application/xml": {"schema": {"type": "string", "format": "binary"}},
            "application/gzip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/catalogs",
    response_model=CatalogOut,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT},
    openapi_extra=_UPLOAD,
    summary="Import a Dell catalog: upload Catalog.xml(.gz), or send {'url': ...}",
)
async def create_catalog(
    request: Request,
    state: StateDep,
    principal: Admin,
    file_name: Annotated[str | None, Query(max_length=255, examples=["Catalog.xml.gz"])] = None,
) -> Catalog:
    """All or nothing: a bad line anywhere is a 422 naming it, and nothing is stored. The
    same XML twice is a 409 naming the catalog it already is."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after the import)
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            await _spool(request, spool, MAX_JSON_BYTES)
            url = _url(spool)
            spool.close()
            spool = await anyio.to_thread.run_sync(_fetch, url)
            source = f"url:{url}"
        else:
            await _spool(request, spool, MAX_DOWNLOAD_BYTES)
            source = f"upload:{file_name or 'catalog'}"
        return await anyio.to_thread.run_sync(_import, state, spool, source, principal.name)
    finally:
        spool.close()


async def _spool(request: Request, out: IO[bytes], limit: int) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise invalid("body", f"larger than {limit} bytes")
        out.write(chunk)
    out.seek(0)


def _url(spool: IO[bytes]) -> str:
    try:
        return CatalogUrl.model_validate_json(spool.read()).url
    except ValidationError as exc:
        detail = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None


def _fetch(url: str) -> IO[bytes]:
    try:
        return download(url)
    except CatalogError as exc:
        raise invalid("url", str(exc).removeprefix("url: ")) from None


def _import(state: StateDep, spool: IO[bytes], source: str, who: str) -> Catalog:
    try:
        return import_catalog(state.engine, spool, source, who)
    except CatalogError as exc:
        raise invalid("catalog", str(exc)) from None
    except DuplicateCatalogError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


@router.get("/catalogs", response_model=Page[CatalogOut])
def list_catalogs(
    session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Newest import first; every import is kept."""
    return page_of(session, select(Catalog).order_by(col(Catalog.id).desc()), limit, offset)


@router.get("/catalogs/{catalog_id}", response_model=CatalogOut, responses=NOT_FOUND)
def get_catalog(catalog_id: Id, session: SessionDep, _: Viewer) -> Catalog:
    return get_or_404(session, Catalog, catalog_id)


@router.get(
    "/catalogs/{catalog_id}/components", response_model=Page[ComponentOut], responses=NOT_FOUND
)
def list_components(
    catalog_id: Id,
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    kind: Literal["software", "inventory"] | None = None,
    component_id: Annotated[
        str | None, Query(max_length=32, description="Device@componentID (= SoftwareId)")
    ] = None,
    system_id: Annotated[Hex4 | None, Query(description="Dell SystemID, e.g. 0912")] = None,
    pci_vendor_id: Hex4 | None = None,
    pci_device_id: Hex4 | None = None,
    component_type: Annotated[str | None, Query(max_length=16, examples=["BIOS"])] = None,
    criticality: Annotated[int | None, Query(ge=0, le=9)] = None,
    reboot_required: bool | None = None,
) -> dict[str, Any]:
    get_or_404(session, Catalog, catalog_id)
    row = CatalogComponentRow
    statement = select(row).where(row.catalog_id == catalog_id).order_by(col(row.seq))
    for column, value in (
        (row.kind, kind),
        (row.component_type, component_type),
        (row.criticality, criticality),
        (row.reboot_required, reboot_required),
    ):
        if value is not None:
            statement = statement.where(column == value)
    device_filters = {
        CatalogDevice.component_id: component_id,
        CatalogDevice.vendor_id: _hex(pci_vendor_id),
        CatalogDevice.device_id: _hex(pci_device_id),
    }
    wanted = [column == value for column, value in device_filters.items() if value is not None]
    if wanted:
        statement = statement.where(exists().where(*_same(CatalogDevice), *wanted))
    if system_id is not None:
        match = CatalogSystem.system_id == _hex(system_id)
        statement = statement.where(exists().where(*_same(CatalogSystem), match))
    return page_of(session, statement, limit, offset)


def _same(child: type[CatalogDevice] | type[CatalogSystem]) -> tuple[Any, Any]:
    """The child rows of the component row being filtered."""
    return (
        child.catalog_id == CatalogComponentRow.catalog_id,
        child.seq == CatalogComponentRow.seq,
    )


def _hex(value: str | None) -> str | None:
    """The catalog's spelling of a hex id: upper case, 4 digits, no 0x."""
    return value.lower().removeprefix("0x").upper().zfill(4) if value is not None else None
