"""What every resource router shares: paging, 404/409/422 errors with field names, commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import HTTPException, Path, Query, Response, status
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.windows import IsoText

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)

MAX_PAGE = 500


class Message(BaseModel):
    detail: str = Field(examples=["server 42 does not exist"])


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Rows matching the filters, over all pages.")
    limit: int
    offset: int


MAX_ID = 2_147_483_647  # INTEGER on both databases
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="Row id.")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
RefId = Annotated[int, Field(ge=1, le=MAX_ID, examples=[1])]


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


UtcInstant = Annotated[AwareDatetime, IsoText, AfterValidator(_utc)]
"""A point in time with an offset, stored in UTC (the database column's convention)."""
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]


def text_filter(max_length: int, **extra: Any) -> Any:
    """A text query filter: bounded, and refused with a 422 naming it when it holds a NUL,
    which PostgreSQL text cannot hold (a streamed answer, already started, could only
    break off)."""
    return Query(max_length=max_length, pattern=r"^[^\x00]*$", **extra)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "no, expired or revoked token"},
    403: {"model": Message, "description": "role too low"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message, "description": "no such id"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Message, "description": "duplicate, or still referenced"}
}


def json_response(model: BaseModel) -> Response:
    """Serialise once with pydantic-core, skipping FastAPI's second validation pass: for the
    hot inventory reads, where the model was just built from the row."""
    return Response(model.model_dump_json(), media_type="application/json")


def not_found(kind: str, ident: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{kind} {ident} does not exist")


def invalid(field: str, message: str, where: str = "body") -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, naming the field."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": [*_path(where), field], "msg": message, "type": "value_error"}],
    )


def _path(dotted: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in dotted.split(".")]


def get_or_404(session: Session, model: type[M], ident: int) -> M:
    row = session.get(model, ident)
    if row is None:
        raise not_found(model.__tablename__.rstrip("s").replace("_", " "), ident)  # type: ignore[attr-defined]
    return row


def check_refs(session: Session, refs: dict[str, tuple[type[SQLModel], int | None]]) -> None:
    """422 naming the field when a foreign key points at nothing (clearer than a 409)."""
    for field, (model, ident) in refs.items():
        if ident is not None and session.get(model, ident) is None:
            raise invalid(field, f"{field.removesuffix('_id')} {ident} does not exist")


def paginate(
    session: Session, statement: SelectOfScalar[M], limit: int, offset: int
) -> tuple[Sequence[M], int]:
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    items = session.exec(statement.limit(limit).offset(offset)).all()
    return items, total


def page_of(
    session: Session, statement: SelectOfScalar[M], limit: int, offset: int
) -> dict[str, Any]:
    """A ``Page`` body for ``statement``'s rows."""
    items, total = paginate(session, statement, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def save(session: Session, row: M) -> M:
    """Commit; a uniqueness or reference violation becomes a 409 instead of a 500."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=_conflict(exc)) from None
    session.refresh(row)
    return row


def delete(session: Session, row: SQLModel) -> None:
    session.delete(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="still referenced by other records; remove those first"
        ) from None


def _conflict(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return "a record with the same unique value already exists"
    return "violates a reference between records"


def apply(row: SQLModel, changes: BaseModel) -> None:
    """PATCH semantics: only the fields sent; null only where the column allows it."""
    columns = row.__table__.columns  # type: ignore[attr-defined]
    for key, value in changes.model_dump(exclude_unset=True).items():
        if value is None and not columns[key].nullable:
            raise invalid(key, "may not be null")
        setattr(row, key, value)
