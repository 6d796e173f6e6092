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


KEY, OTHER = b"k" * 32, b"o" * 32
KEYS = {"k1": KEY}


def keyed_chain(
    n: int, key: bytes = KEY, start: list[StoredEntry] | None = None
) -> list[StoredEntry]:
    """``start`` (e.g. legacy entries) continued by n entries keyed under ``key``."""
    entries = list(start or [])
    prev = entries[-1].hash if entries else GENESIS
    for i in range(len(entries) + 1, len(entries) + n + 1):
        fields = ChainedFields(
            i, T0 + timedelta(seconds=i), "alice", "admin", "act", "t", "success", None, None
        )
        digest = entry_hash(prev, fields, key)
        entries.append(StoredEntry(fields, prev, digest, key_id="k1"))
        prev = digest
    return entries


def test_keyed_chain_verifies_only_with_its_key() -> None:
    report = verify_chain(keyed_chain(4), keys=KEYS)
    assert report.ok and report.keyed_from == 1
    assert not verify_chain(keyed_chain(4), keys={"k1": OTHER}).ok
    missing = verify_chain(keyed_chain(4))
    assert not missing.ok and "not configured" in (missing.problem or "")


def test_a_rewrite_recomputed_without_the_key_is_detected() -> None:
    """The audit's attack: edit a row, recompute every hash after it (with any key but ours)."""
    entries = keyed_chain(4)
    forged = keyed_chain(2, key=OTHER, start=entries[:2])
    report = verify_chain(forged, keys=KEYS)
    assert not report.ok and report.first_bad_seq == 3


def test_an_unkeyed_entry_appended_or_a_downgrade_is_detected() -> None:
    entries = keyed_chain(3)
    appended = [*entries, *chain(4)[3:]]  # seq 4 unkeyed, computed by the attacker
    appended[3] = dataclasses.replace(
        appended[3],
        prev_hash=entries[-1].hash,
        hash=entry_hash(entries[-1].hash, appended[3].fields),
    )
    report = verify_chain(appended, keys=KEYS)
    assert not report.ok and "unkeyed after keyed" in (report.problem or "")
    downgraded = verify_chain(chain(5), keys=KEYS)  # the whole log rewritten unkeyed
    assert not downgraded.ok and "no entry is keyed" in (downgraded.problem or "")


def test_a_legacy_prefix_sealed_by_keyed_entries_verifies() -> None:
    sealed = keyed_chain(2, start=chain(3))
    report = verify_chain(sealed, keys=KEYS)
    assert report.ok and report.entries == 5 and report.keyed_from == 4
    legacy = list(sealed)
    edited = dataclasses.replace(legacy[1].fields, actor="mallory")
    legacy[1] = dataclasses.replace(legacy[1], fields=edited)
    assert not verify_chain(legacy, keys=KEYS).ok
