"""Enrollments: iDRACs to bring under management, from discovery or a bulk import."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.crud import ERRORS, Limit, Message, Offset, Page, paginate
from api.deps import SessionDep
from api.security import Admin, Viewer
from domain.enrollment import MAX_BYTES, InvalidImport, RowError, parse_import
from store.enrollment import import_rows
from store.onboarding import Enrollment

router = APIRouter(prefix="/enrollments", tags=["onboarding"], responses=ERRORS)

_FORMATS = {
    "text/csv": "csv",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
}


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    address: str
    source: str = Field(examples=["import"], description="import or discovery")
    service_tag: str | None
    datacenter_id: int | None
    cluster_id: int | None
    esxi_host: str | None
    labels: dict[str, str]
    credential_profile_id: int | None
    server_id: int | None = Field(description="set once a validation identified the server")
    created_at: datetime
    updated_at: datetime


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


def row_errors(errors: list[RowError]) -> HTTPException:
    """422 in FastAPI's shape; loc names the line (and the field) of the file."""
    detail = [
        {
            "loc": [
                "body",
                f"line {e.line}" if e.line else "file",
                *([e.field] if e.field else []),
            ],
            "msg": e.problem,
            "type": "value_error",
        }
        for e in errors
    ]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


@router.post(
    "/import",
    response_model=ImportOut,
    responses={415: {"model": Message, "description": "neither CSV nor YAML"}},
    summary="Import iDRAC addresses from CSV or YAML: all rows or none",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_enrollments(
    request: Request,
    session: SessionDep,
    _: Admin,
    format: Annotated[
        Literal["csv", "yaml"] | None,
        Query(description="Default: from Content-Type (text/csv, application/yaml)."),
    ] = None,
) -> ImportOut:
    """Columns: address (required), service_tag, site, cluster, esxi_host, labels
    (CSV: ``env=prod;rack=R12``), credential_profile (a profile's name). Idempotent per
    address; an empty cell keeps what is known. Every bad row is named with its line."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    chosen = format or _FORMATS.get(content_type)
    if chosen is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send text/csv or application/yaml, or pass ?format=csv|yaml",
        )
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise row_errors([RowError(0, None, f"larger than {MAX_BYTES} bytes")])
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise row_errors([RowError(0, None, "not UTF-8 text")]) from None

    def run() -> ImportOut:
        result = import_rows(session, *parse_import(text, chosen))
        return ImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)

    try:
        return await anyio.to_thread.run_sync(run)
    except InvalidImport as exc:
        raise row_errors(exc.errors) from None


@router.get("", response_model=Page[EnrollmentOut])
def list_enrollments(
    session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    statement = select(Enrollment).order_by(col(Enrollment.id))
    items, total = paginate(session, statement, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
