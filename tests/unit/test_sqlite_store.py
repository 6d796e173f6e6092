"""The embedded default: migrations create a SQLite file (and its directory) from nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from sqlmodel import Session, col, select

from common.settings import Settings
from store.audit import AuditKeys, AuditRecord, append_once, verify
from store.db import make_engine, session_scope
from store.migrate import current_revision, head_revision, upgrade
from store.models import AuditEvent, Datacenter


def test_upgrade_creates_file_and_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/orch.db"
    upgrade(url)
    assert (tmp_path / "nested/dir/orch.db").exists()
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    with session_scope(engine) as session:
        session.add(Datacenter(name="dc1", timezone="UTC"))
    with Session(engine) as session:
        assert session.exec(select(Datacenter.name)).all() == ["dc1"]
    engine.dispose()


def test_session_scope_rolls_back_on_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/orch.db"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            session.add(Datacenter(name="half-written", timezone="UTC"))
            session.flush()
            raise ValueError("boom")
    except ValueError:
        pass
    with Session(engine) as session:
        assert session.exec(select(Datacenter)).all() == []
    engine.dispose()


def test_append_once_writes_a_retried_action_once(tmp_path: Path) -> None:
    """What a retried activity relies on: the same entry again (even racing itself) or, with
    ``same_detail`` off, the same action reworded, adds nothing; another action does."""
    url = f"sqlite:///{tmp_path}/orch.db"
    upgrade(url)
    engine = make_engine(url)
    keys = AuditKeys.from_settings(Settings(secret_key="k" * 32))
    enter = AuditRecord("orchestrator", "host.maintenance.enter", "campaign:1/host:A", "success")
    with ThreadPoolExecutor(4) as pool:
        firsts = list(pool.map(lambda _: append_once(engine, enter, keys).seq, range(8)))
    rollback = AuditRecord("orchestrator", "host.firmware.rollback", "campaign:1/host:A", "success")
    append_once(engine, replace(rollback, detail="159 2 -> 1"), keys)
    reworded = replace(rollback, detail="nothing installed")
    append_once(engine, reworded, keys, same_detail=False)
    append_once(engine, replace(enter, target="campaign:2/host:A"), keys)
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEvent.action, AuditEvent.target, AuditEvent.detail).order_by(
                col(AuditEvent.seq)
            )
        ).all()
    assert set(firsts) == {1}
    assert rows == [
        ("host.maintenance.enter", "campaign:1/host:A", None),
        ("host.firmware.rollback", "campaign:1/host:A", "159 2 -> 1"),
        ("host.maintenance.enter", "campaign:2/host:A", None),
    ]
    assert verify(engine, keys).ok
    engine.dispose()
