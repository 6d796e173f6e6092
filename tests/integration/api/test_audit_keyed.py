"""The keyed audit chain against the audit's attack: someone with database write access
rewrites history and recomputes the chain, or appends a row; and the migration of a chain
written before keying."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from common.settings import Settings
from domain.audit_chain import GENESIS, entry_hash
from store import audit
from store.db import make_engine
from store.migrate import upgrade
from store.models import AuditEvent
from tests.integration.api.conftest import SECRET_KEY, Api
from tests.integration.api.test_audit import _copy_audit, _tamper, _verify
from tests.services.postgres import fresh_database

UNKEYED = audit.AuditKeys(None, {})


@pytest.fixture
def clone(api: Api, admin: httpx.Client) -> Iterator[str]:
    """A copy of the session's (keyed) audit log, safe to tamper with."""
    admin.post("/datacenters", json={"name": "", "timezone": "UTC"})  # one more entry (422)
    source = make_url(api.settings.effective_database_url).set(drivername="postgresql")
    with fresh_database("audit_keyed") as url:
        _copy_audit(source.render_as_string(hide_password=False), url)
        _tamper(url, "SELECT setval('audit_events_id_seq', (SELECT max(id) FROM audit_events))")
        yield url


def _recompute_unkeyed(url: str, from_seq: int) -> None:
    """The attacker's move: rehash from ``from_seq`` on with plain SHA-256 (no key)."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
    engine.dispose()
    prev = GENESIS
    updates = []
    for row in rows:
        digest = row.hash
        if row.seq >= from_seq:
            digest = entry_hash(prev, audit.stored_entry(row).fields)
            updates.append((prev, digest, row.seq))
        prev = digest
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as connection:
        connection.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        connection.cursor().executemany(
            "UPDATE audit_events SET prev_hash = %s, hash = %s, key_id = NULL WHERE seq = %s",
            updates,
        )
        connection.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def test_a_rewritten_and_recomputed_history_fails_verify(clone: str) -> None:
    assert _verify(clone)[0] == 0
    _tamper(clone, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    _recompute_unkeyed(clone, from_seq=2)
    code, output = _verify(clone)
    assert code == 1 and "TAMPERED" in output, output


def test_a_row_appended_without_the_key_fails_verify(clone: str) -> None:
    engine = make_engine(clone)
    audit.append(engine, audit.AuditRecord("mallory", "login", "auth", "success"), keys=UNKEYED)
    engine.dispose()
    code, output = _verify(clone)
    assert code == 1 and "unkeyed after keyed" in output, output


def test_a_chain_written_before_keying_is_sealed_at_start() -> None:
    with fresh_database("audit_legacy") as url:
        upgrade(url)
        engine = make_engine(url)
        for i in range(3):
            audit.append(engine, audit.AuditRecord("old", f"a{i}", "t", "success"), keys=UNKEYED)
        code, output = _verify(url)
        assert code == 1 and "no entry is keyed" in output
        keys = audit.AuditKeys.from_settings(Settings(secret_key=SECRET_KEY))
        audit.seal_unkeyed_head(engine, keys)
        audit.seal_unkeyed_head(engine, keys)  # once only
        report = audit.verify(engine, keys)
        engine.dispose()
        assert report.ok and report.entries == 4 and report.keyed_from == 4
        code, output = _verify(url)
        assert code == 0 and "before seq 4 are unkeyed" in output, output
