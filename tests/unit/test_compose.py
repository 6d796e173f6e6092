"""docker-compose.yml wiring, checked offline (no Docker engine runs on CI machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from common.settings import Settings
from domain.temporal_names import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_stack_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgresql",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "api",
        "worker",
    }


def test_temporal_runs_on_the_postgresql_service(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert temporal["environment"]["DB"] == "postgres12"
    assert temporal["environment"]["POSTGRES_SEEDS"] == "postgresql"
    assert temporal["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert compose["services"]["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_api_and_worker_share_database_and_temporal(compose: dict[str, Any]) -> None:
    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert api["command"] == ["idrac-orch", "api"] and worker["command"] == ["idrac-orch", "worker"]
    for service in (api, worker):
        env = service["environment"]
        assert env["IDRAC_ORCH_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "@postgresql:5432/orch" in env["IDRAC_ORCH_DATABASE_URL"]
        assert service["build"] == "."
        # Every variable is one the service actually reads.
        known = {f"IDRAC_ORCH_{name.upper()}" for name in Settings.model_fields}
        assert set(env) <= known, set(env) - known


def test_search_attributes_registered_match_the_code(compose: dict[str, Any]) -> None:
    script = compose["services"]["temporal-setup"]["command"][0]
    for key in SEARCH_ATTRIBUTES:
        assert key.name in script


def test_dockerfile_installs_every_package_dir() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = pyproject.split("include = [", 1)[1].split("]", 1)[0]
    packages = [
        p.strip().strip('"').rstrip("*") for p in include.replace("\n", "").split(",") if p.strip()
    ]
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package
