"""The audit log's hash chain: each entry's hash covers its fields and the previous hash,
so editing, inserting or removing a row breaks every hash after it.

Entries are keyed (HMAC-SHA256 under a key that lives in the environment, never in the
database): without the key, someone who can write the database cannot recompute the chain
after rewriting it, nor append an entry that verifies. Entries written before keying was
enabled keep their plain SHA-256 and are accepted only as a prefix: the first keyed entry
covers the last of them, and an unkeyed entry after a keyed one is a downgrade. What this
does and does not detect: docs/api.md, "Audit log".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
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


def entry_hash(prev_hash: str, fields: ChainedFields, key: bytes | None = None) -> str:
    """HMAC-SHA256 under ``key``; plain SHA-256 for unkeyed (legacy) entries."""
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
    if key is None:
        return hashlib.sha256(payload.encode()).hexdigest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    fields: ChainedFields
    prev_hash: str
    hash: str
    key_id: str | None = None
    """Id of the key that keyed this entry; None for a legacy (unkeyed) entry."""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head_hash: str
    problem: str | None = None
    first_bad_seq: int | None = None
    keyed_from: int | None = None
    """The first keyed entry's seq; None when no entry is keyed."""


def verify_chain(
    entries: Iterable[StoredEntry],
    anchor: str | None = None,
    keys: Mapping[str, bytes] | None = None,
) -> ChainReport:
    """Walk the entries in ``seq`` order; report the first one that does not fit.

    ``anchor`` is a head hash recorded earlier: it must still be in the chain, which also
    catches rows removed from the end (the one edit a chain alone cannot see). ``keys`` (key
    id -> key) check keyed entries; given any, the newest entry must be keyed, or the whole
    log could have been rewritten unkeyed.
    """
    keys = keys or {}
    expected_prev, expected_seq, count = GENESIS, 1, 0
    keyed_from: int | None = None
    anchor_seen = anchor is None
    for entry in entries:
        seq = entry.fields.seq
        if seq != expected_seq:
            return _broken(count, expected_prev, seq, f"seq {expected_seq} missing (found {seq})")
        if entry.prev_hash != expected_prev:
            return _broken(count, expected_prev, seq, f"seq {seq}: prev_hash does not match")
        if entry.key_id is None and keyed_from is not None:
            return _broken(count, expected_prev, seq, f"seq {seq}: unkeyed after keyed entries")
        key = keys.get(entry.key_id) if entry.key_id is not None else None
        if entry.key_id is not None and key is None:
            problem = f"seq {seq}: keyed with key {entry.key_id}, which is not configured"
            return _broken(count, expected_prev, seq, problem)
        if entry_hash(entry.prev_hash, entry.fields, key) != entry.hash:
            return _broken(count, expected_prev, seq, f"seq {seq}: content does not match hash")
        if key is not None and keyed_from is None:
            keyed_from = seq
        expected_prev, expected_seq, count = entry.hash, seq + 1, count + 1
        anchor_seen = anchor_seen or entry.hash == anchor
    if keys and count and keyed_from is None:
        return ChainReport(
            ok=False,
            entries=count,
            head_hash=expected_prev,
            problem="no entry is keyed although a key is configured (rewritten without the "
            "key, or the API has not run since keying was enabled)",
        )
    if not anchor_seen:
        return ChainReport(
            ok=False,
            entries=count,
            head_hash=expected_prev,
            problem=f"recorded head {anchor} is no longer in the chain (rows removed?)",
        )
    return ChainReport(ok=True, entries=count, head_hash=expected_prev, keyed_from=keyed_from)


def _broken(count: int, head: str, seq: int, problem: str) -> ChainReport:
    return ChainReport(ok=False, entries=count, head_hash=head, problem=problem, first_bad_seq=seq)
