"""Notification tests: a fresh PostgreSQL database, the real activities on a real Temporal
worker, and real receivers (HTTP, SMTP with STARTTLS) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, update
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from activities.resources import Resources
from common.settings import Settings
from domain.notifications import ChannelKind, EventKind
from simulators.loopback_tls import loopback_certificate
from store.crypto import SecretBox
from store.db import make_engine
from store.migrate import upgrade
from store.models import Campaign
from store.notifications import NotificationChannel, NotificationRule
from store.notify_outbox import seal_channel_secret
from tests.integration.notify.publishing import Publisher, publisher
from tests.services.postgres import fresh_database
from tests.services.receivers import HttpReceiver, http_receiver

SECRET_KEY = "notify-tests-key-5c1f"
MAX_ATTEMPTS = 3
BACKOFF_S = 0.2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return loopback_certificate(tmp_path_factory.mktemp("notify-tls"))


@pytest.fixture(scope="module")
def resources(certificate: tuple[Path, Path]) -> Iterator[Resources]:
    with fresh_database("idrac_orch_notify") as url:
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            database_url=url,
            secret_key=SECRET_KEY,
            notify_max_attempts=MAX_ATTEMPTS,
            notify_backoff_s=BACKOFF_S,
            notify_backoff_max_s=1.0,
            notify_timeout_s=5.0,
            notify_ca_bundle=certificate[0],
        )
        yield Resources(settings=settings, engine=engine, secrets=SecretBox(SECRET_KEY))
        engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def publish(
    temporal_env: WorkflowEnvironment, resources: Resources
) -> AsyncIterator[Publisher]:
    async with publisher(temporal_env.client, resources) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@dataclass
class Store:
    engine: Engine
    box: SecretBox

    def channel(
        self, name: str, kind: ChannelKind, config: dict[str, Any], secret: str | None
    ) -> int:
        with Session(self.engine) as session:
            row = NotificationChannel(name=name, kind=kind.value, config=config)
            seal_channel_secret(row, self.box, secret)
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def campaign(self) -> int:
        with Session(self.engine) as session:
            row = Campaign(name="notified", spec={}, created_by="tests")
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def rule(
        self,
        channel_id: int,
        kinds: list[EventKind] | None = None,
        campaign_id: int | None = None,
        enabled: bool = True,
    ) -> int:
        with Session(self.engine) as session:
            row = NotificationRule(
                channel_id=channel_id,
                kinds=[k.value for k in kinds or []],
                campaign_id=campaign_id,
                enabled=enabled,
            )
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def disable_rules(self) -> None:
        with Session(self.engine) as session:
            session.execute(update(NotificationRule).values(enabled=False))
            session.commit()


@pytest.fixture
def store(resources: Resources) -> Iterator[Store]:
    """The test's channels and rules; every rule is disabled afterwards, so that the next
    test's events reach only its own receivers."""
    made = Store(resources.engine, resources.secrets)
    yield made
    made.disable_rules()
