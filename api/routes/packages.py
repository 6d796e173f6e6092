"""Firmware packages: metadata, streamed upload with checksum check, and the file server
iDRACs pull from by ImageURI (no auth: an iDRAC cannot send a bearer token, and the path
is the content's SHA-256, so it can only serve what an admin uploaded)."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Message,
    Offset,
    Page,
    apply,
    get_or_404,
    invalid,
    paginate,
    save,
    text_filter,
)
from api.crud import delete as delete_row
from api.deps import SessionDep, StateDep
from api.package_repository import spool
from api.security import Admin, Viewer
from domain.package_links import PackageLink, refusal
from store.crypto import package_link_keys
from store.models import FirmwarePackage, utcnow
from store.packages import campaigns_using, release_file, stored_path

router = APIRouter(tags=["packages"])
CHUNK = 1024 * 1024
FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
SHA256 = r"^[0-9a-f]{64}$"

Models = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    Field(max_length=200, examples=[["PowerEdge R650", "PowerEdge R750"]]),
]


class PackageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=255, examples=["BIOS_R650_2.19.1"])]
    component_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$", examples=["159"])]
    version: Annotated[str, Field(min_length=1, max_length=64, examples=["2.19.1"])]
    applicable_models: Models = Field(default_factory=list)
    sha256: Annotated[str, Field(pattern=SHA256, description="Expected SHA-256 (lower-case hex)")]


class PackageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    applicable_models: Models | None = None


class PackageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    component_id: str
    version: str
    applicable_models: list[str]
    sha256: str
    file_name: str | None
    size_bytes: int | None
    uploaded_at: datetime | None
    created_at: datetime
    download_path: str | None = Field(
        description="Path (under the API's base URL) iDRACs pull the image from."
    )


def package_out(row: FirmwarePackage) -> PackageOut:
    path = f"/repository/{row.sha256}/{row.file_name}" if row.file_name else None
    return PackageOut.model_validate({**row.model_dump(), "download_path": path})


@router.get("/packages", response_model=Page[PackageOut], responses=ERRORS)
def list_packages(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    component_id: Annotated[str | None, text_filter(32)] = None,
) -> Page[PackageOut]:
    statement = select(FirmwarePackage).order_by(col(FirmwarePackage.id))
    if component_id is not None:
        statement = statement.where(FirmwarePackage.component_id == component_id)
    items, total = paginate(session, statement, limit, offset)
    return Page(items=[package_out(i) for i in items], total=total, limit=limit, offset=offset)


@router.post(
    "/packages",
    response_model=PackageOut,
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, **CONFLICT},
)
def create_package(body: PackageCreate, session: SessionDep, _: Admin) -> PackageOut:
    return package_out(save(session, FirmwarePackage(**body.model_dump())))


@router.get("/packages/{package_id}", response_model=PackageOut, responses={**ERRORS, **NOT_FOUND})
def get_package(package_id: Id, session: SessionDep, _: Viewer) -> PackageOut:
    return package_out(get_or_404(session, FirmwarePackage, package_id))


@router.patch(
    "/packages/{package_id}", response_model=PackageOut, responses={**ERRORS, **NOT_FOUND}
)
def update_package(
    package_id: Id, body: PackageUpdate, session: SessionDep, _: Admin
) -> PackageOut:
    row = get_or_404(session, FirmwarePackage, package_id)
    apply(row, body)
    return package_out(save(session, row))


@router.delete(
    "/packages/{package_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_package(package_id: Id, session: SessionDep, state: StateDep, _: Admin) -> None:
    row = get_or_404(session, FirmwarePackage, package_id)
    users = campaigns_using(session, package_id)
    if users:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"package {package_id} is installed by unfinished campaign(s) "
            f"{', '.join(map(str, users))}; abort or finish them first",
        )
    sha256, file_name = row.sha256, row.file_name
    delete_row(session, row)
    if file_name:
        release_file(session, state.settings.effective_package_dir, sha256, file_name, package_id)


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/packages/{package_id}/file",
    response_model=PackageOut,
    responses={**ERRORS, **NOT_FOUND},
    openapi_extra=_UPLOAD_BODY,
    summary="Upload the package file (raw body, streamed; must match sha256)",
)
async def upload_package_file(
    package_id: Id,
    request: Request,
    state: StateDep,
    _: Admin,
    file_name: Annotated[str, Query(pattern=FILE_NAME, examples=["BIOS_X1Y2Z_WN64_2.19.1.EXE"])],
) -> PackageOut:
    row = await anyio.to_thread.run_sync(_load, state, package_id)
    root = state.settings.effective_package_dir
    target_dir = root / row.sha256
    await anyio.to_thread.run_sync(lambda: target_dir.mkdir(parents=True, exist_ok=True))
    got = await spool(request, target_dir / f".upload-{os.getpid()}-{id(request)}")
    try:
        if got.sha256 != row.sha256:
            raise invalid("body", "SHA-256 of the uploaded file does not match the package's")
        await anyio.Path(got.path).rename(target_dir / file_name)
    finally:
        await anyio.Path(got.path).unlink(missing_ok=True)
    return await anyio.to_thread.run_sync(_mark_uploaded, state, package_id, file_name, got.size)


def _load(state: StateDep, package_id: int) -> FirmwarePackage:
    with Session(state.engine) as session:
        return get_or_404(session, FirmwarePackage, package_id)


def _mark_uploaded(state: StateDep, package_id: int, file_name: str, size: int) -> PackageOut:
    """Point the package at its new file; the name it replaces stops being served."""
    with Session(state.engine) as session:
        row = get_or_404(session, FirmwarePackage, package_id)
        superseded = row.file_name
        row.file_name, row.size_bytes, row.uploaded_at = file_name, size, utcnow()
        out = package_out(save(session, row))
        if superseded and superseded != file_name:
            root = state.settings.effective_package_dir
            release_file(session, root, row.sha256, superseded, package_id)
        return out


Sha256 = Annotated[str, PathParam(pattern=SHA256)]
FileName = Annotated[str, PathParam(pattern=FILE_NAME)]


def _package_file(state: StateDep, sha256: str, file_name: str) -> FileResponse:
    path = stored_path(state.settings.effective_package_dir, sha256, file_name)
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such package file")
    return FileResponse(path, media_type="application/octet-stream", filename=file_name)


@router.get(
    "/repository/{sha256}/{file_name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the package file"},
        404: {"description": "no such uploaded file"},
    },
    summary="Package file, for a logged-in user (iDRACs get signed links)",
)
def download_package_file(
    sha256: Sha256, file_name: FileName, state: StateDep, _: Viewer
) -> FileResponse:
    return _package_file(state, sha256, file_name)


@router.get(
    "/repository/c/{campaign_id}/{expires}/{signature}/{sha256}/{file_name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the package file"},
        403: {"model": Message, "description": "signature wrong or link expired"},
        404: {"description": "no such uploaded file"},
    },
    summary="Package file for an iDRAC's ImageURI pull: a signed, expiring link, no login",
)
def download_signed_package_file(
    campaign_id: Id,
    expires: Annotated[int, PathParam(ge=0)],
    signature: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")],
    sha256: Sha256,
    file_name: FileName,
    state: StateDep,
) -> FileResponse:
    link = PackageLink(campaign_id, sha256, file_name, expires)
    refused = refusal(link, signature, package_link_keys(state.settings), time.time())
    if refused is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=refused)
    return _package_file(state, sha256, file_name)
