"""An uploaded DUP matched to its catalog entry by hash (SHA-256, else MD5) or, failing
that, by file name: the package's component id and version come from the catalog, never
typed by hand."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.crud import CONFLICT, ERRORS, invalid
from api.deps import StateDep
from api.package_repository import keep, partial_path, spool
from api.routes.packages import _UPLOAD_BODY, FILE_NAME, PackageOut, package_out
from api.security import Admin
from integrations.catalog.packages import Fetched
from store.catalog import CatalogComponentRow

router = APIRouter(tags=["packages"], responses=ERRORS)
MatchedBy = Literal["sha256", "md5", "name"]


class Matched(BaseModel):
    catalog_id: int
    catalog_seq: int
    matched_by: MatchedBy
    package: PackageOut


def _entry(session: Session, got: Fetched, file_name: str) -> tuple[CatalogComponentRow, MatchedBy]:
    """The newest catalog's entry with this content, else with this file name."""
    row = CatalogComponentRow
    newest = (col(row.catalog_id).desc(), col(row.seq))
    software = row.kind == "software"
    for by, where in (
        ("sha256", row.hash_sha256 == got.sha256),
        ("md5", row.hash_md5 == got.md5),
        (
            "name",
            col(row.path).endswith(f"/{file_name}", autoescape=True) | (row.path == file_name),
        ),
    ):
        found = session.exec(select(row).where(software, where).order_by(*newest)).first()
        if found is None:
            continue
        if by == "name" and (found.hash_sha256 or found.hash_md5):
            raise invalid(
                "body",
                f"named like catalog {found.catalog_id}'s package {found.path}, but its hash "
                "differs from the catalog's: not the catalog's file",
            )
        return found, by  # type: ignore[return-value]
    raise invalid("body", "matches no catalog entry by SHA-256, MD5 or file name")


def _match(state: StateDep, got: Fetched, file_name: str) -> Matched:
    with Session(state.engine) as session:
        try:
            entry, by = _entry(session, got, file_name)
        except BaseException:
            got.path.unlink(missing_ok=True)
            raise
        kept = keep(session, state.settings.effective_package_dir, entry, got)
        return Matched(
            catalog_id=entry.catalog_id,
            catalog_seq=entry.seq,
            matched_by=by,
            package=package_out(kept),
        )


@router.post(
    "/packages/match",
    response_model=Matched,
    status_code=status.HTTP_201_CREATED,
    responses=CONFLICT,
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a DUP; its catalog entry (by hash or name) gives component and version",
)
async def match_package(
    request: Request,
    state: StateDep,
    _: Admin,
    file_name: Annotated[str, Query(pattern=FILE_NAME, examples=["BIOS_X1Y2Z_WN64_2.19.1.EXE"])],
) -> Any:
    got = await spool(request, partial_path(state.settings.effective_package_dir))
    return await anyio.to_thread.run_sync(_match, state, got, file_name)
