"""deploy/compose/postgres-init.sh, run as the postgres image runs it (psql as the
superuser), against the local PostgreSQL with names of this test's own: each login
reaches its own databases and is refused the other's."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.services.postgres import ADMIN_DSN

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "compose" / "postgres-init.sh"


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    chosen = {
        "ORCH_DB_USER": f"orch_{suffix}",
        "ORCH_DB_NAME": f"orch_{suffix}",
        "TEMPORAL_DB_USER": f"temporal_{suffix}",
        "TEMPORAL_DB_NAME": f"temporal_{suffix}",
        "TEMPORAL_VISIBILITY_DB_NAME": f"temporal_visibility_{suffix}",
    }
    yield chosen
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        for key in ("ORCH_DB_NAME", "TEMPORAL_DB_NAME", "TEMPORAL_VISIBILITY_DB_NAME"):
            admin.execute(f'DROP DATABASE IF EXISTS "{chosen[key]}" WITH (FORCE)')
        for key in ("ORCH_DB_USER", "TEMPORAL_DB_USER"):
            admin.execute(f'DROP ROLE IF EXISTS "{chosen[key]}"')


def _reaches(user: str, database: str) -> bool:
    server = conninfo_to_dict(ADMIN_DSN)
    try:
        with psycopg.connect(
            host=server["host"],
            port=server.get("port", 5432),
            user=user,
            dbname=database,
            password="x",
        ):
            return True
    except psycopg.OperationalError as exc:
        assert "permission denied" in str(exc), exc
        return False


def test_separate_logins_for_the_orchestrator_and_temporal(names: dict[str, str]) -> None:
    server = conninfo_to_dict(ADMIN_DSN)
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": server["host"],
        "PGPORT": str(server.get("port", 5432)),
        "POSTGRES_USER": server.get("user", "postgres"),
        "ORCH_DB_PASSWORD": "orch-pw",
        "TEMPORAL_DB_PASSWORD": "temporal-pw",
        **names,
    }
    run = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr

    orch, temporal = names["ORCH_DB_USER"], names["TEMPORAL_DB_USER"]
    temporal_dbs = (names["TEMPORAL_DB_NAME"], names["TEMPORAL_VISIBILITY_DB_NAME"])
    assert _reaches(orch, names["ORCH_DB_NAME"])
    assert all(_reaches(temporal, db) for db in temporal_dbs)
    assert not any(_reaches(orch, db) for db in temporal_dbs)
    assert not _reaches(temporal, names["ORCH_DB_NAME"])
    with psycopg.connect(ADMIN_DSN) as admin:
        powers = admin.execute(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = ANY(%s)",
            [[orch, temporal]],
        ).fetchall()
    assert powers == [(False,), (False,)]
