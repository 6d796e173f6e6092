"""The embedded default: migrations create a SQLite file (and its directory) from nothing."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from store.db import make_engine, session_scope
from store.migrate import current_revision, head_revision, upgrade
from store.models import Datacenter


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
