"""docker-compose.yml and deploy/.env.example, checked offline (no Docker engine runs on
CI machines): valid against the Compose specification, wired as documented, and every
setting of the service present in the one .env file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from common.settings import Settings
from domain.temporal_names import SEARCH_ATTRIBUTES
from tests.integration.deploy.compose_env import (
    ENV_EXAMPLE,
    ROOT,
    MissingVariableError,
    dotenv,
    interpolate,
    load_compose,
    service_environment,
)

COMPOSE_SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
# Wired by docker-compose.yml itself, or meaningful only for the embedded dev stack.
NOT_IN_ENV_FILE = {
    "database_url",
    "data_dir",
    "api_host",
    "api_port",
    "codec_cors_origin",
    "log_format",
    "temporal_metrics_address",
}
DEV_ONLY = {"temporal_ui_port"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return dotenv(ENV_EXAMPLE)


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert errors == []


def test_the_validator_does_reject_a_broken_compose_file(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "api": {"image": 5, "portz": []}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_stack_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "api",
        "worker",
    }


def test_temporal_is_the_server_image_on_its_own_login_after_a_schema_step(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/server:")
    assert all("auto-setup" not in s.get("image", "") for s in services.values())
    env = temporal["environment"]
    assert env["DB"] == "postgres12" and env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_USER"] == "temporal" and "TEMPORAL_DB_PASSWORD" in env["POSTGRES_PWD"]
    assert temporal["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["temporal-schema"]["image"].startswith("temporalio/admin-tools:")
    assert "PROMETHEUS_ENDPOINT" in env  # Temporal's own metrics are on


def test_packages_databases_and_ca_bundles_are_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"pgdata", "orchdata"}
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgresql"]["volumes"]
    for name in ("api", "worker"):
        volumes = compose["services"][name]["volumes"]
        assert "orchdata:/data" in volumes
        assert "./deploy/ca:/etc/idrac-orch/ca:ro" in volumes


def test_api_and_worker_get_every_setting_from_the_env_file(
    compose: dict[str, Any], env_example: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert api["command"] == ["idrac-orch", "api"] and worker["command"] == ["idrac-orch", "worker"]
    known = {f"IDRAC_ORCH_{name.upper()}" for name in Settings.model_fields}
    for service in ("api", "worker"):
        env = service_environment(compose, service, env_example)
        assert env["IDRAC_ORCH_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "@postgresql:5432/orch" in env["IDRAC_ORCH_DATABASE_URL"]
        assert env["IDRAC_ORCH_PACKAGE_REPOSITORY_URL"] == "http://orch.example.com:8000"
        orch = {k: v for k, v in env.items() if k.startswith("IDRAC_ORCH_")}
        assert set(orch) <= known, set(orch) - known  # every variable is one the service reads
        for key, value in orch.items():
            monkeypatch.setenv(key, value)
        settings = Settings()  # parses as the container would
        assert settings.breakglass_username == "breakglass" and settings.ldap_role_groups


def test_every_setting_is_documented_in_the_env_example() -> None:
    text = ENV_EXAMPLE.read_text()
    missing = [
        name
        for name in Settings.model_fields
        if name not in NOT_IN_ENV_FILE | DEV_ONLY and f"IDRAC_ORCH_{name.upper()}=" not in text
    ]
    assert missing == [], "add these settings to deploy/.env.example"


def test_required_variables_fail_compose_early(compose: dict[str, Any]) -> None:
    secret = compose["services"]["api"]["environment"]["IDRAC_ORCH_SECRET_KEY"]
    with pytest.raises(MissingVariableError, match="IDRAC_ORCH_SECRET_KEY"):
        interpolate(secret, {})
    assert interpolate("a$${x}${Y:-d}${Z-e}", {"Z": ""}) == "a${x}d"


def test_search_attributes_registered_match_the_code() -> None:
    script = (ROOT / "deploy" / "compose" / "temporal-namespace.sh").read_text()
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
    assert "chmod 0700 /data" in dockerfile and "umask 077" in dockerfile


def test_scripts_are_executable() -> None:
    for script in (ROOT / "deploy" / "compose").glob("*.sh"):
        assert Path(script).stat().st_mode & 0o111, script
