"""Writing and reading the audit log. There is deliberately no update or delete here."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from common.settings import Settings, get_settings
from domain.audit_chain import GENESIS, ChainedFields, ChainReport, StoredEntry, entry_hash
from domain.audit_chain import verify_chain as verify_entries
from store.crypto import derive_key, key_id
from store.models import AuditEvent, utcnow

# One writer at a time extends the chain: a thread lock in this process, and on PostgreSQL
# a transaction-scoped advisory lock across processes (API replicas, workers, CLI).
_chain_lock = threading.Lock()
_PG_LOCK_KEY = 0x1D7AC_A0D17


@dataclass(frozen=True)
class AuditKeys:
    """The chain's HMAC keys, from the environment: IDRAC_ORCH_AUDIT_KEY (else derived from
    IDRAC_ORCH_SECRET_KEY) keys new entries; retired keys still verify old ones."""

    current: bytes | None
    by_id: dict[str, bytes]

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys:
        current = settings.audit_key or settings.secret_key
        retired = [*settings.previous_audit_keys, *settings.previous_secret_keys]
        materials = [current, *retired] if current is not None else retired
        keys = [derive_key(m.get_secret_value(), b"audit chain") for m in materials]
        return cls(
            current=keys[0] if current is not None else None, by_id={key_id(k): k for k in keys}
        )

    @property
    def current_id(self) -> str | None:
        return key_id(self.current) if self.current is not None else None


@functools.cache
def _environment_keys() -> AuditKeys:
    """For writers that have no settings object of their own (worker activities)."""
    return AuditKeys.from_settings(get_settings())


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    action: str
    target: str
    outcome: str
    role: str | None = None
    source: str | None = None
    detail: str | None = None


def _clean(value: str | None, limit: int) -> str | None:
    """Control characters escaped (PostgreSQL refuses NUL; logs and CSV should not carry
    raw control bytes from an attacker-chosen user name), then cut to the column size."""
    if value is None:
        return None
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in value)
    return escaped[:limit]


def append(
    engine: Engine,
    record: AuditRecord,
    at: datetime | None = None,
    keys: AuditKeys | None = None,
) -> AuditEvent:
    return _write(engine, record, at, keys, once=False, same_detail=True)


def append_once(
    engine: Engine, record: AuditRecord, keys: AuditKeys | None = None, *, same_detail: bool = True
) -> AuditEvent:
    """Append unless an entry with the same actor, action, target, outcome (and detail, if
    ``same_detail``) exists: a retried activity (worker crash, lost completion) must not
    record its action twice, even when the retry words it differently (``same_detail`` off:
    the first attempt's words stand). The lookup runs under the chain lock, so attempts
    racing each other still write one."""
    return _write(engine, record, None, keys, once=True, same_detail=same_detail)


def _write(
    engine: Engine,
    record: AuditRecord,
    at: datetime | None,
    keys: AuditKeys | None,
    *,
    once: bool,
    same_detail: bool,
) -> AuditEvent:
    keys = keys or _environment_keys()
    actor, action = _clean(record.actor, 255) or "", _clean(record.action, 128) or ""
    target, detail = _clean(record.target, 512) or "", _clean(record.detail, 1000)
    with _chain_lock, Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_PG_LOCK_KEY))
        if once:
            query = select(AuditEvent).where(
                AuditEvent.actor == actor,
                AuditEvent.action == action,
                AuditEvent.target == target,
                AuditEvent.outcome == record.outcome,
            )
            if same_detail:
                query = query.where(
                    col(AuditEvent.detail).is_(None)
                    if detail is None
                    else AuditEvent.detail == detail
                )
            same = session.exec(query).first()
            if same is not None:
                return same
        last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
        fields = ChainedFields(
            seq=(last.seq + 1) if last else 1,
            occurred_at=at or utcnow(),
            actor=actor,
            role=record.role,
            action=action,
            target=target,
            outcome=record.outcome,
            source=_clean(record.source, 64),
            detail=detail,
        )
        prev = last.hash if last else GENESIS
        digest = entry_hash(prev, fields, keys.current)
        event = AuditEvent(**fields.__dict__, prev_hash=prev, hash=digest, key_id=keys.current_id)
        session.add(event)
        session.commit()
        session.refresh(event)
        return event


def stored_entry(event: AuditEvent) -> StoredEntry:
    fields = ChainedFields(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor=event.actor,
        role=event.role,
        action=event.action,
        target=event.target,
        outcome=event.outcome,
        source=event.source,
        detail=event.detail,
    )
    return StoredEntry(
        fields=fields, prev_hash=event.prev_hash, hash=event.hash, key_id=event.key_id
    )


def _all_in_order(engine: Engine, batch: int = 1000) -> Iterator[StoredEntry]:
    with Session(engine) as session:
        after = 0
        while True:
            rows = session.exec(
                select(AuditEvent)
                .where(AuditEvent.seq > after)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            ).all()
            if not rows:
                return
            yield from (stored_entry(row) for row in rows)
            after = rows[-1].seq


def verify(engine: Engine, keys: AuditKeys, anchor: str | None = None) -> ChainReport:
    return verify_entries(_all_in_order(engine), anchor, keys.by_id)


def seal_unkeyed_head(engine: Engine, keys: AuditKeys) -> None:
    """Once a key is configured, make sure the newest entry is keyed: a chain written before
    keying (or by an older version) is sealed by one keyed entry covering its head, so that
    from then on ``verify`` can insist on a keyed head."""
    if keys.current is None:
        return
    with Session(engine) as session:
        last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    if last is not None and last.key_id is None:
        append(
            engine,
            AuditRecord(
                actor="system",
                action="audit.keyed",
                target="audit_events",
                outcome="success",
                detail=f"entries 1..{last.seq} were written unkeyed; later entries are HMAC-keyed",
            ),
            keys=keys,
        )
