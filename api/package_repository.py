"""Putting a checked DUP into the package repository under its catalog identity.

Shared by the on-demand fetch of a baseline's packages and the upload matched to the
catalog: the row is the catalog entry's component id and version (no id typed by hand),
the file lives at ``<package_dir>/<sha256>/<file name>`` like any uploaded package.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import anyio
from fastapi import HTTPException, Request, status
from sqlmodel import Session, select

from api.crud import invalid, save
from integrations.catalog.packages import Fetched
from store.catalog import CatalogComponentRow
from store.models import FirmwarePackage, utcnow
from store.packages import stored_path

MAX_PACKAGE_BYTES = 4 * 1024**3


async def spool(request: Request, partial: Path) -> Fetched:
    """The request body streamed to PARTIAL (never held in memory), with its hashes; the
    partial file is gone again if the body is too large or the upload breaks off."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    try:
        async with await anyio.open_file(partial, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_PACKAGE_BYTES:
                    raise invalid("body", f"larger than {MAX_PACKAGE_BYTES} bytes")
                sha.update(chunk)
                md5.update(chunk)
                await out.write(chunk)
    except BaseException:
        await anyio.Path(partial).unlink(missing_ok=True)
        raise
    return Fetched(partial, sha.hexdigest(), md5.hexdigest(), size)


def partial_path(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return root / f".fetch-{uuid.uuid4().hex}"


def component_id_of(component: CatalogComponentRow) -> str:
    """The device the package updates (the first one the catalog names)."""
    return str(component.devices[0]["component_id"]) if component.devices else ""


def find_package(session: Session, component_id: str, version: str) -> FirmwarePackage | None:
    return session.exec(
        select(FirmwarePackage).where(
            FirmwarePackage.component_id == component_id, FirmwarePackage.version == version
        )
    ).first()


def keep(
    session: Session, root: Path, component: CatalogComponentRow, got: Fetched
) -> FirmwarePackage:
    """Store the checked file and its row; 409 when the repository already holds this
    component and version with other content (nothing is replaced silently)."""
    component_id, version = component_id_of(component), component.vendor_version
    row = find_package(session, component_id, version)
    if row is not None and row.sha256 != got.sha256:
        got.path.unlink(missing_ok=True)
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"package {row.id} is component {component_id} version {version} with "
            "another SHA-256; delete it first to take the catalog's",
        )
    file_name = component.path.rsplit("/", 1)[-1]
    target = stored_path(root, got.sha256, file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    got.path.rename(target)
    if row is None:
        row = FirmwarePackage(
            name=(component.name or file_name)[:255],
            component_id=component_id,
            version=version,
            applicable_models=sorted({s["model"] for s in component.systems if s.get("model")}),
            sha256=got.sha256,
        )
    row.file_name, row.size_bytes, row.uploaded_at = file_name, got.size, utcnow()
    return save(session, row)
