"""`idrac-orch redfish ...` and `idrac-orch simulate idrac` as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from integrations.redfish.client import RedfishClient
from integrations.redfish.models import ClientOptions, Credentials
from tests.integration.redfish.test_updates import BIOS, IDRAC
from tests.services.ports import free_port

FAST = ["--poll-interval", "0.02"]


def run(simulator, *args: str, password: str = "calvin"):  # noqa: S107 (simulator default)
    env = {"IDRAC_ORCH_REDFISH_USERNAME": "root", "IDRAC_ORCH_REDFISH_PASSWORD": password}
    trust = ["--ca-bundle", str(simulator.ca_path)]
    return CliRunner().invoke(app, ["redfish", *args, *trust], env=env)


def test_inventory_human_and_json(simulator, host) -> None:
    text = run(simulator, "inventory", host.url)
    assert text.exit_code == 0, text.output
    assert f"service tag {host.tag}" in text.output and "BIOS 1.10.2" in text.output
    as_json = run(simulator, "inventory", host.url, "--json")
    document = json.loads(as_json.stdout)
    assert document["identity"]["service_tag"] == host.tag
    assert {"159", "25227"} <= {c["component_id"] for c in document["firmware"]}


def test_update_bios_end_to_end(simulator, host, image_dir) -> None:
    """Scheduled, reboot, applied, verified by inventory diff."""
    result = run(
        simulator, "update", host.url, "--file", str(image_dir / BIOS),
        "--apply-time", "OnReset", "--reboot", "--wait", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scheduled" in result.output
    assert "completed after a reboot; verified: BIOS 1.10.2 -> 2.11.2" in result.output
    assert host.state()["firmware"]["bios"] == "2.11.2"


def test_idrac_update_from_uri_json(simulator, host, image_server) -> None:
    result = run(
        simulator, "update", host.url, "--image-uri", f"{image_server}/{IDRAC}",
        "--apply-time", "Immediate", "--wait", "--json", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["changes"][0]["after"] == "7.10.30.00"


def test_submit_without_wait_then_list_and_clear_jobs(simulator, host, image_dir) -> None:
    submitted = run(simulator, "update", host.url, "--file", str(image_dir / BIOS), "--json")
    job_id = json.loads(submitted.stdout)["job_id"]
    listed = run(simulator, "jobs", host.url)
    assert listed.exit_code == 0 and f"{job_id} scheduled" in listed.output
    cleared = run(simulator, "jobs", host.url, "--clear")
    assert cleared.exit_code == 0 and "job queue is empty" in cleared.output


def test_reboot_and_rollback(simulator, host, image_dir) -> None:
    run(simulator, "update", host.url, "--file", str(image_dir / BIOS), "--reboot", "--wait", *FAST)
    rebooted = run(simulator, "reboot", host.url, *FAST)
    assert rebooted.exit_code == 0 and "host back up" in rebooted.output
    rolled = run(simulator, "rollback", host.url, "--component", "bios", "--reboot", *FAST)
    assert rolled.exit_code == 0, rolled.output
    assert "verified: BIOS 2.11.2 -> 1.10.2" in rolled.output


def test_failure_is_one_line_and_never_echoes_the_password(simulator, host) -> None:
    result = run(simulator, "inventory", host.url, password="Wr0ng-secret")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"error: {host.url.split('//')[1].split(':')[0]}: login")
    assert "Wr0ng-secret" not in result.output + result.stderr


def test_bad_usage_names_the_problem(simulator, host, image_dir) -> None:
    result = run(
        simulator, "update", host.url, "--file", str(image_dir / BIOS), "--image-uri", "http://x/y"
    )
    assert result.exit_code == 2 and "exactly one of --image-uri or --file" in result.output


def test_simulate_idrac_serves_until_interrupted(tmp_path: Path) -> None:
    port = free_port("127.21.254.1")
    command = [
        sys.executable, "-m", "cli.main", "simulate", "idrac", "--count", "2",
        "--base-address", "127.21.254.1", "--port", str(port), "--time-scale", "0.01",
        "--state-dir", str(tmp_path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("iDRAC simulator: 2 iDRACs on port"), lines
        assert lines[4].split()[:2] == ["SIM0002", f"https://127.21.254.2:{port}"]
        options = ClientOptions(ca_bundle=tmp_path / "ca.pem")
        credentials = Credentials(username="root", password="calvin")

        async def identity() -> str:
            async with RedfishClient(lines[4].split()[1], credentials, options) as client:
                return (await client.identity()).service_tag

        assert asyncio.run(identity()) == "SIM0002"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def one_line_error(result) -> str:
    """What an operator sees when a command fails: exit 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line
    assert not line.endswith("None")
    return line


def test_generic_bmc_without_sessions_inventory(simulator, generic_host) -> None:
    generic_host.set_quirks(sessions=False)
    result = run(simulator, "inventory", generic_host.url, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["identity"]["vendor"] == "Contoso"
    assert {c["id"] for c in document["firmware"]} >= {"BIOS", "BMC"}
    assert generic_host.state()["sessions"] == 0


def test_generic_bmc_without_firmware_inventory_shows_identity(simulator, generic_host) -> None:
    generic_host.set_quirks(firmware_inventory=False)
    result = run(simulator, "inventory", generic_host.url)
    assert result.exit_code == 0, result.output
    assert f"service tag {generic_host.tag}" in result.output
    assert "no firmware inventory: the UpdateService links no FirmwareInventory" in result.output


def test_generic_bmc_refusing_basic_is_one_line(simulator, generic_host) -> None:
    generic_host.set_quirks(basic_auth=False)
    line = one_line_error(run(simulator, "inventory", generic_host.url, "--auth", "basic"))
    assert "HTTP 401" in line and "does not take HTTP Basic" in line
    assert "username and password" not in line


def test_generic_update_with_targets(simulator, generic_host, image_server) -> None:
    generic_host.set_quirks(simple_update_targets=True)
    update = ["update", generic_host.url, "--image-uri", f"{image_server}/{BIOS}", "--wait",
              "--reboot", *FAST]  # fmt: skip
    line = one_line_error(run(simulator, *update))
    assert "SimpleUpdate requires Targets" in line
    wrong = one_line_error(run(simulator, *update, "--target", "raid-nope"))
    assert "'raid-nope' matches no installed component; available: " in wrong
    done = run(simulator, *update, "--target", "BIOS")
    assert done.exit_code == 0, done.output
    assert "verified: BIOS 1.10.2 -> 2.11.2" in done.output
