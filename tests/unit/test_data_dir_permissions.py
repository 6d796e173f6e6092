"""The embedded SQLite store is readable by its owner only (inventory, sealed secrets)."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_folder_and_files_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "idrac-orch.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(database.parent.glob("idrac-orch.db*"))
        assert len(files) >= 2  # the database and its write-ahead log
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    engine.dispose()
    assert _mode(database.parent) == 0o700


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
