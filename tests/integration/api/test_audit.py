"""Every mutating request and every login lands in the audit log, which cannot be quietly
edited: the database refuses UPDATE/DELETE, and `idrac-orch audit verify` catches a row
changed or removed by someone who bypassed that (a superuser disabling the trigger)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cli.main import app as cli
from common.settings import get_settings
from tests.integration.api.conftest import PASSWORDS, SECRET_KEY, Api
from tests.services.postgres import fresh_database


def _latest(admin: httpx.Client, **filters: str) -> dict[str, object]:
    items = admin.get("/audit", params={"limit": 1, **filters}).json()["items"]
    assert items, f"no audit entry for {filters}"
    return items[0]


def test_mutations_and_refusals_are_recorded(api: Api, tokens: dict[str, str]) -> None:
    name = f"audited-{uuid.uuid4().hex[:6]}"
    with api.client(tokens["admin"]) as admin:
        created = admin.post("/datacenters", json={"name": name, "timezone": "UTC"})
        entry = _latest(admin, action="create_datacenter")
        assert {k: entry[k] for k in ("actor", "role", "target", "outcome", "source")} == {
            "actor": "carol",
            "role": "admin",
            "target": "POST /datacenters",
            "outcome": "success",
            "source": "127.0.0.1",
        }
        before = admin.get("/audit").json()["total"]
        admin.get(f"/datacenters/{created.json()['id']}")
        assert admin.get("/audit").json()["total"] == before  # reads are not audited

        with api.client(tokens["viewer"]) as viewer:
            viewer.delete(f"/datacenters/{created.json()['id']}")
        denied = _latest(admin, action="delete_datacenter")
        assert (denied["actor"], denied["outcome"], denied["detail"]) == (
            "bob",
            "denied",
            "HTTP 403",
        )
        with api.client() as anonymous:
            anonymous.post("/datacenters", json={"name": "x", "timezone": "UTC"})
        assert _latest(admin, action="create_datacenter")["actor"] == "anonymous"
        admin.post("/datacenters", json={"name": name, "timezone": "Nowhere/City"})
        assert _latest(admin, action="create_datacenter")["outcome"] == "rejected"


def test_logins_are_recorded_with_outcome_and_source(api: Api, tokens: dict[str, str]) -> None:
    with api.client(source="127.0.0.9") as client:
        client.post("/auth/login", json={"username": "alice", "password": "wrong"})
        client.post("/auth/login", json={"username": "alice", "password": PASSWORDS["alice"]})
    with api.client(tokens["admin"]) as admin:
        entries = admin.get("/audit", params={"action": "login", "actor": "alice", "limit": 2})
        latest, previous = entries.json()["items"]
    assert (latest["outcome"], latest["role"], latest["source"]) == (
        "success",
        "operator",
        "127.0.0.9",
    )
    assert (previous["outcome"], previous["source"]) == ("failure", "127.0.0.9")
    assert previous["detail"] == "invalid credentials"


def test_filters_and_csv_export(api: Api, tokens: dict[str, str]) -> None:
    with api.client(tokens["admin"]) as admin:
        failures = admin.get("/audit", params={"outcome": "failure", "action": "login"}).json()
        assert failures["total"] >= 1
        assert {item["outcome"] for item in failures["items"]} == {"failure"}
        future = admin.get("/audit", params={"since": "2999-01-01T00:00:00Z"}).json()
        assert future["total"] == 0
        # Found by schemathesis: year 1 at +00:04 is before year 1 in UTC.
        underflow = admin.get("/audit", params={"until": "0001-01-01T00:01:00+00:04"})
        assert underflow.status_code == 422
        assert underflow.json()["detail"][0]["loc"] == ["query", "until"]
        exported = admin.get("/audit/export.csv", params={"action": "login"})
        # Found by schemathesis: a NUL reached PostgreSQL after the CSV had started.
        nul = admin.get("/audit/export.csv", params={"action": "log\x00in"})
        assert nul.status_code == 422
        assert nul.json()["detail"][0]["loc"] == ["query", "action"]
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {row["action"] for row in rows} == {"login"}
    seqs = [int(row["seq"]) for row in rows]
    assert seqs == sorted(seqs)


def _verify(url: str, *args: str) -> tuple[int, str]:
    get_settings.cache_clear()  # the CLI reads settings once per process
    result = CliRunner().invoke(
        cli,
        ["audit", "verify", *args],
        env={"IDRAC_ORCH_DATABASE_URL": url, "IDRAC_ORCH_SECRET_KEY": SECRET_KEY},
    )
    get_settings.cache_clear()
    return result.exit_code, result.output


@pytest.fixture
def populated(api: Api, tokens: dict[str, str]) -> Iterator[str]:
    """The session database after some audited traffic, as a plain libpq DSN."""
    with api.client(tokens["admin"]) as admin:
        for i in range(3):
            admin.post(
                "/datacenters", json={"name": f"t-{uuid.uuid4().hex[:6]}-{i}", "timezone": "UTC"}
            )
    url = make_url(api.settings.effective_database_url)
    yield url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_database_refuses_update_and_delete(populated: str) -> None:
    with psycopg.connect(populated) as connection:
        for statement in (
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM audit_events WHERE seq = 1",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                connection.execute(statement)
            connection.rollback()


def test_verify_detects_edited_and_removed_rows(api: Api, populated: str) -> None:
    url = api.settings.effective_database_url
    code, output = _verify(url)
    assert code == 0 and output.startswith("ok:")
    head = output.split("head ")[1].strip()
    # A clone of the log, so the session's own log stays intact for other tests.
    with fresh_database("audit_tamper") as clone_url:
        _copy_audit(populated, clone_url)
        assert _verify(clone_url, "--expect-head", head)[0] == 0
        _tamper(clone_url, "UPDATE audit_events SET actor = actor || '-edited' WHERE seq = 2")
        code, output = _verify(clone_url)
        assert code == 1 and "seq 2: content does not match hash" in output
    with fresh_database("audit_tamper") as clone_url:
        _copy_audit(populated, clone_url)
        _tamper(clone_url, "DELETE FROM audit_events WHERE seq = 3")
        code, output = _verify(clone_url)
        assert code == 1 and "seq 3 missing" in output
    with fresh_database("audit_tamper") as clone_url:
        _copy_audit(populated, clone_url)
        _tamper(
            clone_url, "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)"
        )
        assert _verify(clone_url)[0] == 0  # a chain alone cannot see a cut tail...
        code, output = _verify(clone_url, "--expect-head", head)
        assert code == 1 and "no longer in the chain" in output  # ...the recorded head can


def _copy_audit(source_dsn: str, target_url: str) -> None:
    from store.migrate import upgrade

    upgrade(target_url)
    target = make_url(target_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(source_dsn) as source, psycopg.connect(target) as clone:
        rows = source.execute("SELECT * FROM audit_events ORDER BY seq").fetchall()
        columns = [d.name for d in source.execute("SELECT * FROM audit_events LIMIT 0").description]
        placeholders = ", ".join(["%s"] * len(columns))
        clone.cursor().executemany(
            f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


def _tamper(url: str, statement: str) -> None:
    """What an attacker with superuser rights would do: switch the guard off, then edit."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as connection:
        connection.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        connection.execute(statement)
        connection.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
