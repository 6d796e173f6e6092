"""`idrac-orch vcenter ...` against the scenario vcsim, credentials from the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from simulators.vcsim.harness import VcsimProcess


@pytest.fixture
def run(
    scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]
) -> Callable[..., tuple[int, str, str]]:
    login = scenario_vcsim.fleet.vcenter
    env = {
        "IDRAC_ORCH_VCENTER_USERNAME": login.username,
        "IDRAC_ORCH_VCENTER_PASSWORD": login.password,
    }
    url = scenario_vcsim.url

    def invoke(*args: str, ca: bool = True) -> tuple[int, str, str]:
        where = [url, "--ca-bundle", str(ca_bundle[0])] if ca else [url]
        result = CliRunner().invoke(app, ["vcenter", *args, *where], env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_inventory_json(run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = run("inventory", "--json")
    assert code == 0
    hosts = {
        h["name"]: h
        for dc in json.loads(out)["datacenters"]
        for c in dc["clusters"]
        for h in c["hosts"]
    }
    assert hosts["single-1.test"]["service_tag"] == "SGL0001"


def test_capacity_text_names_the_reason(run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = run(
        "capacity", "--cluster", "single", "--max-concurrent", "2", "--max-utilization", "100"
    )
    assert code == 0
    assert "single: 0 more host(s) may enter maintenance (1 of 1 available)" in out
    assert "limited by: cluster single has a single host" in out


def test_maintenance_enter_and_exit(run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = run("maintenance", "enter", "--host", "AUT0002", "--timeout", "60", "--json")
    assert code == 0
    assert json.loads(out)["in_maintenance"] is True
    code, out, _ = run("maintenance", "exit", "--host", "drs-auto-2.test", "--json")
    assert code == 0
    assert json.loads(out) == {
        "host": "drs-auto-2.test",
        "changed": True,
        "in_maintenance": False,
        "migrated": {},
    }


def test_refused_enter_exits_3_with_the_blockers(run: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run("maintenance", "enter", "--host", "blockers-1.test", "--timeout", "60")
    assert code == 3
    assert "VM gpu-vm has a PCI passthrough device" in err


def test_untrusted_certificate_exits_1(run: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = run("inventory", "--json", ca=False)
    assert code == 1
    assert "TLS certificate not trusted" in err
