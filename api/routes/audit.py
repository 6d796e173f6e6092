"""Reading the audit log: filtered pages, a CSV export, a live event stream and the syslog
forwarder's position. There is no write endpoint."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api import sse
from api.campaign_status import FINAL
from api.crud import ERRORS, Limit, Offset, Page, UtcInstant, paginate, text_filter
from api.csv_export import cell as _cell
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer, still_valid
from domain.roles import Role
from store.audit_forwarding import status as forwarding_status
from store.models import AuditEvent

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)
# Requests' outcomes, a held host's alert, and how a campaign ended (action campaign.end).
OUTCOMES = ("success", "failure", "denied", "rejected", "error", "held", *sorted(FINAL))
Outcome = Annotated[str | None, Query(pattern=f"^({'|'.join(OUTCOMES)})$")]
CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "role",
    "action",
    "target",
    "outcome",
    "source",
    "detail",
    "prev_hash",
    "hash",
)


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    actor: str
    role: str | None
    action: str
    target: str
    outcome: str
    source: str | None
    detail: str | None
    prev_hash: str
    hash: str


class AuditFilters(BaseModel):
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, statement: SelectOfScalar[AuditEvent]) -> SelectOfScalar[AuditEvent]:
        for column, value in (
            (AuditEvent.actor, self.actor),
            (AuditEvent.action, self.action),
            (AuditEvent.outcome, self.outcome),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if self.since is not None:
            statement = statement.where(col(AuditEvent.occurred_at) >= self.since)
        if self.until is not None:
            statement = statement.where(col(AuditEvent.occurred_at) < self.until)
        return statement


def filters(
    actor: Annotated[str | None, text_filter(255)] = None,
    action: Annotated[str | None, text_filter(128, examples=["create_server"])] = None,
    outcome: Outcome = None,
    since: Annotated[UtcInstant | None, Query(description="Inclusive, with offset")] = None,
    until: Annotated[UtcInstant | None, Query(description="Exclusive, with offset")] = None,
) -> AuditFilters:
    return AuditFilters(actor=actor, action=action, outcome=outcome, since=since, until=until)


Filters = Annotated[AuditFilters, Depends(filters)]


@router.get("", response_model=Page[AuditOut])
def list_audit(
    session: SessionDep, _: Viewer, where: Filters, limit: Limit = 100, offset: Offset = 0
) -> Page[AuditOut]:
    statement = where.apply(select(AuditEvent).order_by(col(AuditEvent.seq).desc()))
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[AuditOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "matching entries, oldest first"}},
)
def export_audit(state: StateDep, _: Viewer, where: Filters) -> StreamingResponse:
    statement = where.apply(select(AuditEvent).order_by(col(AuditEvent.seq)))

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with Session(state.engine) as session:
            for event in session.exec(statement.execution_options(yield_per=500)):
                writer.writerow([_cell(getattr(event, c)) for c in CSV_COLUMNS])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


STREAM_POLL_S = 1.0
STREAM_BATCH = 500
# Every this many polls the stream re-checks its caller's credential (a revoked API token
# ends it within about this many seconds while caught up).
STREAM_RECHECK_POLLS = 5
# audit_events.seq is an INTEGER column (0002): a larger cursor would fail inside the query,
# after the 200 and its headers went out, so it is refused before (422).
MAX_SEQ = 2**31 - 1


def _after(engine: Engine, where: AuditFilters, after: int) -> list[AuditOut]:
    statement = where.apply(select(AuditEvent).where(AuditEvent.seq > after))
    with Session(engine) as session:
        rows = session.exec(statement.order_by(col(AuditEvent.seq)).limit(STREAM_BATCH)).all()
        return [AuditOut.model_validate(r) for r in rows]


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "server-sent events `audit`, data: one entry as in GET /audit, "
            "id: its seq; oldest first, then new entries as they are written",
        }
    },
)
async def stream_audit(
    request: Request,
    state: StateDep,
    principal: Viewer,
    where: Filters,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_SEQ, description="Start after this seq (0: from the first entry)"),
    ] = 0,
    last_event_id: Annotated[
        str | None,
        Header(
            pattern=r"^\d{1,10}$",
            description="Sent by a reconnecting EventSource; wins over `after`",
        ),
    ] = None,
    follow: Annotated[
        bool, Query(description="Keep the stream open for new entries; false: end once caught up")
    ] = True,
) -> StreamingResponse:
    """The audit log as server-sent events, resumable from any seq, with keepalive comments
    while nothing happens (entries are polled from the store every second). The stream ends
    when the caller's token expires, and, checked every few polls, when its API token is
    revoked or no longer grants viewer: the caller reconnects with a valid token and
    Last-Event-ID."""
    cursor = int(last_event_id) if last_event_id is not None else after
    if cursor > MAX_SEQ:  # only a Last-Event-ID can get here: the query bounds `after`
        raise RequestValidationError(
            [
                {
                    "type": "less_than_equal",
                    "loc": ("header", "last-event-id"),
                    "msg": f"Input should be less than or equal to {MAX_SEQ}",
                }
            ]
        )
    polls = 0

    async def poll() -> tuple[list[str], sse.Next]:
        nonlocal cursor, polls
        polls += 1
        if polls % STREAM_RECHECK_POLLS == 0:
            valid = await anyio.to_thread.run_sync(
                still_valid, principal, state.engine, Role.VIEWER, datetime.now(UTC)
            )
            if not valid:
                return [], "done"
        entries = await anyio.to_thread.run_sync(_after, state.engine, where, cursor)
        if entries:
            cursor = entries[-1].seq
        frames = [sse.frame(e.model_dump(mode="json"), "audit", e.seq) for e in entries]
        expired = principal.expires_at is not None and datetime.now(UTC) >= principal.expires_at
        if expired:
            return frames, "done"
        if len(entries) == STREAM_BATCH:
            return frames, "again"
        return frames, "wait" if follow else "done"

    return sse.response(sse.polled(request, poll, STREAM_POLL_S))


class ForwardingOut(BaseModel):
    configured: bool
    destination: str | None
    cursor_seq: int
    head_seq: int
    pending: int
    oldest_pending_at: datetime | None
    forwarded_at: datetime | None
    checked_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


@router.get("/forwarding", response_model=ForwardingOut)
def audit_forwarding(state: StateDep, _: Admin) -> ForwardingOut:
    """Where the syslog forwarder stands: the last seq the receiver accepted (cursor), how
    many entries wait (pending, and since when), its last error. ``configured`` says whether
    this API process has IDRAC_ORCH_AUDIT_SYSLOG_HOST; the forwarder runs in the workers."""
    now = forwarding_status(state.engine)
    return ForwardingOut(configured=state.settings.audit_syslog_host is not None, **now.__dict__)
