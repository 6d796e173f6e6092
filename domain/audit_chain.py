"""The audit log's hash chain: each entry's hash covers its fields and the previous hash,
so editing, inserting or removing a row breaks every hash after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainedFields:
    """Exactly the fields the hash covers, in a database-independent form."""

    seq: int
    occurred_at: datetime
    actor: str
    role: str | None
    action: str
    target: str
    outcome: str
    source: str | None
    detail: str | None


def canonical_time(value: datetime) -> str:
    """SQLite returns naive UTC, PostgreSQL aware times: hash both the same way."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, fields: ChainedFields) -> str:
    payload = json.dumps(
        [
            prev_hash,
            fields.seq,
            canonical_time(fields.occurred_at),
            fields.actor,
            fields.role,
            fields.action,
            fields.target,
            fields.outcome,
            fields.source,
            fields.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    fields: ChainedFields
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head_hash: str
    problem: str | None = None
    first_bad_seq: int | None = None


def verify_chain(entries: Iterable[StoredEntry], anchor: str | None = None) -> ChainReport:
    """Walk the entries in ``seq`` order; report the first one that does not fit.

    ``anchor`` is a head hash recorded earlier: it must still be in the chain, which also
    catches rows removed from the end (the one edit a chain alone cannot see).
    """
    expected_prev, expected_seq, count = GENESIS, 1, 0
    anchor_seen = anchor is None
    for entry in entries:
        seq = entry.fields.seq
        if seq != expected_seq:
            return _broken(count, expected_prev, seq, f"seq {expected_seq} missing (found {seq})")
        if entry.prev_hash != expected_prev:
            return _broken(count, expected_prev, seq, f"seq {seq}: prev_hash does not match")
        if entry_hash(entry.prev_hash, entry.fields) != entry.hash:
            return _broken(count, expected_prev, seq, f"seq {seq}: content does not match hash")
        expected_prev, expected_seq, count = entry.hash, seq + 1, count + 1
        anchor_seen = anchor_seen or entry.hash == anchor
    if not anchor_seen:
        return ChainReport(
            ok=False,
            entries=count,
            head_hash=expected_prev,
            problem=f"recorded head {anchor} is no longer in the chain (rows removed?)",
        )
    return ChainReport(ok=True, entries=count, head_hash=expected_prev)


def _broken(count: int, head: str, seq: int, problem: str) -> ChainReport:
    return ChainReport(ok=False, entries=count, head_hash=head, problem=problem, first_bad_seq=seq)
