"""The schema on both databases: migrations match the models, go down and up again, hold
every table's data, keep the audit log append-only; `secrets rotate` re-seals in place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from cli.main import app as cli
from common.settings import Settings, get_settings
from store import audit
from store.credentials import resolve_for_server, reveal, set_secret
from store.crypto import SecretBox
from store.db import make_engine
from store.installation import installation_id
from store.migrate import alembic_config, upgrade
from store.models import (
    ApiToken,
    Campaign,
    Cluster,
    CredentialProfile,
    Datacenter,
    FirmwarePackage,
    HostUpdate,
    MaintenanceWindow,
    Server,
    Vcenter,
)
from store.notifications import ChangeTicket
from tests.services.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/orch.db"
    else:
        with fresh_database("idrac_orch_store") as pg_url:
            yield pg_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_models_match_migrations_and_downgrade_works(url: str, engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}),
            SQLModel.metadata,
        )
    assert diff == []
    command.downgrade(alembic_config(url), "0001")
    upgrade(url)


def test_every_table_round_trips(engine: Engine) -> None:
    box = SecretBox("store-test-key")
    plus_two = timezone(timedelta(hours=2))
    with Session(engine) as session:
        dc = Datacenter(name="ams", timezone="Europe/Amsterdam")
        session.add(dc)
        session.flush()
        vc = Vcenter(name="vc", address="vc.example.test", datacenter_id=dc.id)
        session.add(vc)
        session.flush()
        cluster = Cluster(name="prod", vcenter_id=vc.id or 0)
        session.add(cluster)
        session.flush()
        server = Server(
            service_tag="ABC1234",
            idrac_address="10.0.0.5",
            datacenter_id=dc.id,
            cluster_id=cluster.id,
            firmware_inventory=[{"component_id": "159", "name": "BIOS", "version": "2.1"}],
            last_seen_at=datetime(2026, 11, 27, 12, 0, tzinfo=plus_two),
        )
        session.add(server)
        session.flush()
        profile = CredentialProfile(
            name="p",
            scope="cidr",
            scope_key="cidr:10.0.0.0/24",
            cidr="10.0.0.0/24",
            username="root",
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(profile, box, "calvin-store")
        session.add(profile)
        session.add(
            FirmwarePackage(
                name="b",
                component_id="159",
                version="2.2",
                applicable_models=["R650"],
                sha256="0" * 64,
            )
        )
        session.add(
            MaintenanceWindow(
                name="w",
                kind="weekly",
                timezone="UTC",
                weekdays=[5],
                start_time="22:00",
                duration_minutes=60,
            )
        )
        campaign = Campaign(name="c", spec={"targets": {}}, created_by="alice")
        session.add(campaign)
        session.flush()
        session.add(
            HostUpdate(campaign_id=campaign.id or 0, server_id=server.id or 0, status="succeeded")
        )
        session.add(ApiToken(name="t", token_hash="f" * 64, role="viewer", created_by="carol"))
        session.commit()
        server_id, profile_id = server.id or 0, profile.id or 0
    with Session(engine) as session:
        stored = session.get(Server, server_id)
        assert stored is not None
        assert stored.last_seen_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
        assert stored.firmware_inventory == [
            {"component_id": "159", "name": "BIOS", "version": "2.1"}
        ]
        assert resolve_for_server(session, stored).profile_id == profile_id
        assert reveal(session, box, profile_id).password.get_secret_value() == "calvin-store"
        assert session.exec(select(HostUpdate)).one().status == "succeeded"


def test_0016_names_the_installation_and_marks_earlier_tickets_legacy(
    url: str, tmp_path: Path
) -> None:
    """One UUID per database, generated by the migration (a database built again from
    scratch is another installation); tickets claimed before it may look up the old
    correlation id, later ones never."""
    upgrade(url, "0015")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO notification_channels (name, kind, config, enabled, "
                    "created_at, updated_at) VALUES ('sn', 'servicenow', '{}', :yes, "
                    ":now, :now)"
                ).bindparams(yes=True, now=datetime.now(UTC))
            )
            channel_id = connection.execute(text("SELECT id FROM notification_channels")).scalar()
            connection.execute(
                text(
                    "INSERT INTO change_tickets (channel_id, campaign_id, created_at, "
                    "updated_at) VALUES (:channel, 7, :now, :now)"
                ).bindparams(channel=channel_id, now=datetime.now(UTC))
            )
        upgrade(url)
        with Session(engine) as session:
            first = installation_id(session)
            assert str(uuid.UUID(first)) == first
            session.add(ChangeTicket(channel_id=channel_id, campaign_id=8))
            session.commit()
            rows = session.exec(select(ChangeTicket.campaign_id, ChangeTicket.legacy_correlation))
            flags = {campaign: legacy for campaign, legacy in rows}
        assert flags == {7: True, 8: False}
        with pytest.raises(DatabaseError), engine.begin() as connection:  # one row only
            connection.execute(
                text(
                    "INSERT INTO installation (id, installation_id, created_at) "
                    "VALUES (2, 'x', :now)"
                ).bindparams(now=datetime.now(UTC))
            )
    finally:
        engine.dispose()
    rebuilt = f"sqlite:///{tmp_path}/rebuilt.db"
    upgrade(rebuilt)
    other = make_engine(rebuilt)
    try:
        with Session(other) as session:
            assert installation_id(session) != first
    finally:
        other.dispose()


def test_audit_log_is_append_only_and_chained(engine: Engine) -> None:
    keys = audit.AuditKeys.from_settings(Settings(secret_key="audit-test-key"))
    for i in range(3):
        audit.append(engine, audit.AuditRecord("alice", f"act{i}", "t", "success"), keys=keys)
    with engine.begin() as connection:
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError, match="append-only"), connection.begin_nested():
                connection.execute(text(statement))
    report = audit.verify(engine, keys)
    assert report.ok and report.entries == 3 and report.keyed_from == 1


def test_secrets_rotate_reseals_under_the_new_key(url: str, engine: Engine) -> None:
    old = SecretBox("old-key-123")
    with Session(engine) as session:
        profile = CredentialProfile(
            name="g",
            scope="global",
            scope_key="global",
            username="root",
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(profile, old, "rotating-secret")
        session.add(profile)
        session.commit()
        profile_id = profile.id or 0
    env = {"IDRAC_ORCH_DATABASE_URL": url, "IDRAC_ORCH_SECRET_KEY": "new-key-456"}
    get_settings.cache_clear()
    refused = CliRunner().invoke(cli, ["secrets", "rotate"], env=env)
    assert refused.exit_code == 1 and "nothing changed" in refused.output
    get_settings.cache_clear()
    rotated = CliRunner().invoke(
        cli,
        ["secrets", "rotate"],
        env={**env, "IDRAC_ORCH_PREVIOUS_SECRET_KEYS": '["old-key-123"]'},
    )
    get_settings.cache_clear()
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 1 secret(s)" in rotated.output
    new = SecretBox.from_settings(Settings(secret_key="new-key-456"))
    with Session(engine) as session:
        stored = session.get(CredentialProfile, profile_id)
        assert stored is not None and stored.key_id == new.current_key_id
        assert reveal(session, new, profile_id).password.get_secret_value() == "rotating-secret"
