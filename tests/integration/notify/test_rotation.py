"""`idrac-orch secrets rotate` re-seals notification channel secrets with the credentials,
in the same transaction."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app as cli
from common.settings import get_settings
from domain.notifications import ChannelKind
from store.crypto import SecretBox
from store.db import make_engine
from store.migrate import upgrade
from store.notifications import NotificationChannel
from store.notify_outbox import reveal_channel_secret, seal_channel_secret
from tests.services.postgres import fresh_database


def test_rotate_reseals_channel_secrets() -> None:
    with fresh_database("idrac_orch_rotate") as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            _rotate(url, engine)
        finally:
            engine.dispose()


def _rotate(url: str, engine: Engine) -> None:
    old, new = SecretBox("rotate-old-key"), SecretBox("rotate-new-key")
    with Session(engine) as session:
        channel = NotificationChannel(
            name="rotating-hook", kind=ChannelKind.WEBHOOK.value, config={"url": "http://x.test"}
        )
        seal_channel_secret(channel, old, "rotating-hmac-key-0001")
        session.add(channel)
        session.commit()
        channel_id = channel.id
    env = {
        "IDRAC_ORCH_DATABASE_URL": url,
        "IDRAC_ORCH_SECRET_KEY": "rotate-new-key",
        "IDRAC_ORCH_PREVIOUS_SECRET_KEYS": '["rotate-old-key"]',
    }
    get_settings.cache_clear()
    try:
        rotated = CliRunner().invoke(cli, ["secrets", "rotate"], env=env)
    finally:
        get_settings.cache_clear()
    assert rotated.exit_code == 0, rotated.output
    assert "notification channel secret(s)" in rotated.output
    assert "rotating-hmac-key-0001" not in rotated.output
    with Session(engine) as session:
        stored = session.get(NotificationChannel, channel_id)
        assert stored is not None and stored.key_id == new.current_key_id
        assert reveal_channel_secret(stored, new) == "rotating-hmac-key-0001"
