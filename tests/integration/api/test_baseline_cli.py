"""`idrac-orch baseline ...` against the real API: define a baseline, check it, read the
report as text and CSV, see drift, dry-run and create its remediation; bad usage exits 2
and a refused call exits 1 with the API's reason."""

from __future__ import annotations

import csv
import io
import json
import random

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli.main import app
from simulators.idrac.catalog import Package
from tests.integration.api.baseline_lab import R650, Lab, inventory
from tests.integration.api.conftest import Api


def run(api: Api, token: str, *args: str) -> Result:
    env = {"IDRAC_ORCH_API_URL": api.url, "IDRAC_ORCH_API_TOKEN": token}
    return CliRunner().invoke(app, ["baseline", *args], env=env)


@pytest.fixture
def lab(admin: httpx.Client) -> Lab:
    n = random.randrange(100, 10_000)
    lab = Lab(admin, [Package("159", f"2.97.{n}", R650, component_type="BIOS", name="BIOS")])
    lab.host("behind", 0, inventory("2.10.0"))
    lab.host("blank", 1, None)
    return lab


def test_define_check_report_and_dry_run(api: Api, tokens: dict[str, str], lab: Lab) -> None:
    admin, operator = tokens["admin"], tokens["operator"]
    clusters = [arg for c in lab.clusters for arg in ("--cluster", c["name"])]
    made = run(
        api,
        admin,
        "create",
        f"cli-{random.random()}",
        "--catalog",
        str(lab.catalog["id"]),
        *clusters,
        "--json",
    )
    assert made.exit_code == 0, made.output
    baseline_id = str(json.loads(made.output)["id"])
    checked = run(api, operator, "check", baseline_id)
    assert checked.exit_code == 0, checked.output
    assert "fleet: 2 hosts, 0.0% compliant (1 upgrade, 1 unknown)" in checked.output
    text = run(api, tokens["viewer"], "report", baseline_id)
    assert "upgrade" in text.output and "2.10.0 ->" in text.output
    table = run(api, tokens["viewer"], "report", baseline_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.output)))
    assert {r["state"] for r in rows} == {"upgrade", "not_applicable", "unknown"}
    drift = run(api, tokens["viewer"], "drift", baseline_id)
    assert drift.exit_code == 0 and "1 host(s) off the baseline" in drift.output
    dry = run(
        api,
        tokens["viewer"],
        "remediate",
        baseline_id,
        "--dry-run",
        "--now",
        "2026-12-05T21:00:00+00:00",
    )
    assert dry.exit_code == 0, dry.output
    assert "(dry run, nothing created)" in dry.output
    assert "step 1: 159 (staged, applied together at one host reboot (BIOS first))" in dry.output
    assert "host reboot; fits:" in dry.output
    assert "missing from the package repository: 159" in dry.output
    refused = run(api, operator, "remediate", baseline_id)
    assert refused.exit_code == 1 and "not in the package repository" in refused.output


def test_bad_usage_exits_2(api: Api, tokens: dict[str, str]) -> None:
    result = run(api, tokens["admin"], "create", "x", "--catalog", "1", "--pin", "159")
    assert result.exit_code == 2 and "COMPONENT_ID=VERSION" in result.output
