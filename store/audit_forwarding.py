"""The audit forwarder's cursor: the ``seq`` of the last audit entry a receiver accepted.

A round locks the cursor row (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so a second forwarder
in another worker skips the round instead of sending the same entries), reads the entries
after it, hands them to ``send`` and moves the cursor in the same transaction: a crash
before the commit leaves the cursor where it was, and the entries are sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from domain.audit_chain import StoredEntry
from store.audit import stored_entry
from store.models import AuditEvent, _ts, utcnow

SYSLOG = "syslog"


class AuditForwarding(SQLModel, table=True):
    """One row per forwarding destination kind; ``cursor_seq`` only ever grows."""

    __tablename__ = "audit_forwarding"

    name: str = Field(primary_key=True, max_length=32)
    destination: str = Field(default="", max_length=300)
    cursor_seq: int = 0
    forwarded_at: datetime | None = _ts(default=None, nullable=True)
    checked_at: datetime | None = _ts(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=1000)
    last_error_at: datetime | None = _ts(default=None, nullable=True)


def _ensure_row(engine: Engine, name: str) -> None:
    with Session(engine) as session:
        if session.get(AuditForwarding, name) is not None:
            return
        session.add(AuditForwarding(name=name))
        try:
            session.commit()
        except IntegrityError:  # another forwarder created it first
            session.rollback()


def forward_round(
    engine: Engine,
    destination: str,
    send: Callable[[Sequence[StoredEntry]], None],
    batch: int,
    name: str = SYSLOG,
) -> int:
    """Send the next ``batch`` entries after the cursor and advance it; the number sent
    (0 also when another forwarder holds the cursor). ``send`` raising leaves the cursor
    where it was, records the error and re-raises."""
    _ensure_row(engine, name)
    with Session(engine) as session:
        row = session.exec(
            select(AuditForwarding)
            .where(AuditForwarding.name == name)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return 0
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq > row.cursor_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        now = utcnow()
        row.destination, row.checked_at = destination, now
        if events:
            try:
                send([stored_entry(e) for e in events])
            except Exception as exc:
                session.rollback()
                _record_error(engine, name, destination, str(exc)[:1000])
                raise
            row.cursor_seq, row.forwarded_at, row.last_error = events[-1].seq, now, None
        session.add(row)
        session.commit()
        return len(events)


def _record_error(engine: Engine, name: str, destination: str, error: str) -> None:
    with Session(engine) as session:
        row = session.get(AuditForwarding, name)
        if row is not None:
            row.destination, row.last_error = destination, error
            row.checked_at = row.last_error_at = utcnow()
            session.add(row)
            session.commit()


@dataclass(frozen=True)
class ForwardingStatus:
    destination: str | None
    cursor_seq: int
    head_seq: int
    pending: int
    oldest_pending_at: datetime | None
    forwarded_at: datetime | None
    checked_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


def status(engine: Engine, name: str = SYSLOG) -> ForwardingStatus:
    """Where the forwarder stands: how far behind the log's head, and its last error."""
    with Session(engine) as session:
        row = session.get(AuditForwarding, name) or AuditForwarding(name=name)
        head = session.exec(select(func.coalesce(func.max(AuditEvent.seq), 0))).one()
        oldest = session.exec(
            select(AuditEvent.occurred_at)
            .where(AuditEvent.seq > row.cursor_seq)
            .order_by(col(AuditEvent.seq))
            .limit(1)
        ).first()
    return ForwardingStatus(
        destination=row.destination or None,
        cursor_seq=row.cursor_seq,
        head_seq=head,
        pending=max(head - row.cursor_seq, 0),
        oldest_pending_at=oldest,
        forwarded_at=row.forwarded_at,
        checked_at=row.checked_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
    )
