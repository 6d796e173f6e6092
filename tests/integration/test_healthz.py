"""GET /healthz reports Temporal and database reachability, against the real services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from common.settings import Settings
from store.migrate import DatabaseUnavailableError
from tests.services.ports import free_port


def _address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def test_healthy_when_both_reachable(temporal_env: WorkflowEnvironment, postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, temporal_address=_address(temporal_env))
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["temporal"]["ok"]
    assert response.headers["x-request-id"]


def test_degraded_names_the_unreachable_dependency(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, temporal_address=f"127.0.0.1:{free_port()}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["temporal"]["ok"] is False and checks["temporal"]["error"]


def test_unreachable_database_stops_start_up_without_leaking_its_password() -> None:
    url = f"postgresql+psycopg://orch:hunter2-secret@127.0.0.1:{free_port()}/nowhere"
    app = create_app(Settings(database_url=url, temporal_address=f"127.0.0.1:{free_port()}"))
    with pytest.raises(DatabaseUnavailableError) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert "127.0.0.1" in message and "nowhere" in message
    assert "hunter2-secret" not in message
