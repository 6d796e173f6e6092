"""The hash chain notices an edited, inserted, reordered or removed entry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from domain.audit_chain import GENESIS, ChainedFields, StoredEntry, entry_hash, verify_chain

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def chain(n: int) -> list[StoredEntry]:
    entries, prev = [], GENESIS
    for i in range(1, n + 1):
        fields = ChainedFields(
            i,
            T0 + timedelta(seconds=i),
            "alice",
            "admin",
            "create_server",
            "POST /servers",
            "success",
            "127.0.0.1",
            None,
        )
        digest = entry_hash(prev, fields)
        entries.append(StoredEntry(fields, prev, digest))
        prev = digest
    return entries


def test_intact_chain_verifies() -> None:
    report = verify_chain(chain(5))
    assert report.ok and report.entries == 5 and report.head_hash == chain(5)[-1].hash


def test_edited_field_is_detected() -> None:
    entries = chain(5)
    edited = dataclasses.replace(entries[2].fields, actor="mallory")
    entries[2] = dataclasses.replace(entries[2], fields=edited)
    report = verify_chain(entries)
    assert not report.ok and report.first_bad_seq == 3 and "content" in (report.problem or "")


def test_removed_middle_row_is_detected() -> None:
    entries = chain(5)
    del entries[1]
    report = verify_chain(entries)
    assert not report.ok and report.first_bad_seq == 3 and "seq 2 missing" in (report.problem or "")


def test_recomputed_hash_after_edit_still_breaks_the_next_link() -> None:
    entries = chain(4)
    edited = dataclasses.replace(entries[1].fields, outcome="failure")
    entries[1] = StoredEntry(edited, entries[1].prev_hash, entry_hash(entries[1].prev_hash, edited))
    report = verify_chain(entries)
    assert not report.ok and report.first_bad_seq == 3


def test_removed_tail_is_detected_only_with_an_anchor() -> None:
    full = chain(5)
    truncated = full[:3]
    assert verify_chain(truncated).ok
    report = verify_chain(truncated, anchor=full[-1].hash)
    assert not report.ok and "no longer in the chain" in (report.problem or "")
    assert verify_chain(full, anchor=full[2].hash).ok


def test_time_is_hashed_the_same_whatever_the_offset_or_naivety() -> None:
    fields = chain(1)[0].fields
    naive_utc = dataclasses.replace(fields, occurred_at=fields.occurred_at.replace(tzinfo=None))
    shifted = dataclasses.replace(
        fields, occurred_at=fields.occurred_at.astimezone(timezone(timedelta(hours=5)))
    )
    assert (
        entry_hash(GENESIS, fields)
        == entry_hash(GENESIS, naive_utc)
        == entry_hash(GENESIS, shifted)
    )
