"""Settings come from IDRAC_ORCH_* variables; bad values name the variable's field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from common.settings import Settings


def test_defaults_are_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("IDRAC_ORCH_DATABASE_URL", "IDRAC_ORCH_DATA_DIR", "IDRAC_ORCH_TEMPORAL_ADDRESS"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings()
    assert settings.temporal_address == "127.0.0.1:7233"
    assert (
        settings.effective_database_url
        == f"sqlite:///{Path('.idrac-orch').resolve()}/idrac-orch.db"
    )
    assert (settings.api_port, settings.temporal_ui_port) == (8000, 8233)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDRAC_ORCH_DATABASE_URL", "postgresql+psycopg://u@db/orch")
    monkeypatch.setenv("IDRAC_ORCH_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("IDRAC_ORCH_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.effective_database_url == "postgresql+psycopg://u@db/orch"
    assert (settings.temporal_host, settings.temporal_port) == ("temporal", 7233)
    assert settings.log_level == "DEBUG"


def test_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDRAC_ORCH_API_PORT", "70000")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()


def test_secret_key_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDRAC_ORCH_SECRET_KEY", "very-secret-key-material")
    settings = Settings()
    assert "very-secret-key-material" not in repr(settings)
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "very-secret-key-material"


def test_trusted_proxies_are_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDRAC_ORCH_TRUSTED_PROXIES", '["10.0.0.5", "192.0.2.0/24"]')
    assert Settings().trusted_proxies == ["10.0.0.5", "192.0.2.0/24"]
    assert Settings.model_fields["trusted_proxies"].default_factory() == []  # type: ignore[misc]
    monkeypatch.setenv("IDRAC_ORCH_TRUSTED_PROXIES", '["proxy.example"]')
    with pytest.raises(ValidationError, match="trusted proxy must be an IP address or CIDR"):
        Settings()
