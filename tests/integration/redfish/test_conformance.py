"""DMTF's Redfish Service Validator finds no failure on any simulator personality.

The validator (PyPI ``redfish-service-validator``) walks every resource from the service
root and checks each payload against DMTF's CSDL schemas, vendored in
tests/conformance/redfish-csdl so the run is offline. Before it runs, every host has a
finished update, a staged one and a reboot behind it, so tasks, jobs and log entries are
checked too, not only empty collections.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators.idrac.personality import PERSONALITIES
from tests.integration.redfish.personality_hosts import (
    GENERIC,
    KINDS,
    Host,
    personality_hosts,
    push,
    reset,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "conformance" / "redfish-csdl"
VALIDATOR = Path(sys.executable).parent / "rf_service_validator"
_SUMMARY = re.compile(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|")
_VALIDATING = re.compile(r" - Validating (\S+?)\.\.\.$")
_FAIL = re.compile(r" - FAIL - (.*)$")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Host]]:
    """One host per personality, each with a finished update, a staged one and a reboot."""
    with personality_hosts(tmp_path_factory.mktemp("sim"), copies=1, time_scale=0.002) as pool:
        chosen = {kind: pool.take(kind) for kind in KINDS}
        for host in chosen.values():
            with host.client() as client:
                for name, apply_time in (
                    ("Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE", "Immediate"),
                    ("BIOS_8MRPC_WN64_2.11.2.EXE", "OnReset"),
                ):
                    response = push(client, name, apply_time)
                    assert response.status_code == 202, response.text
                reset(client)
        for host in chosen.values():
            host.wait_until_settled()
        yield chosen


@dataclass
class Report:
    passed: int
    warned: int
    failed: int
    failures: list[str]
    validated: list[str]


def run_validator(url: str, log_dir: Path) -> Report:
    """The DMTF validator as a user runs it, offline (--skipschema) with our CSDL copy."""
    completed = subprocess.run(
        [
            str(VALIDATOR),
            "--ip",
            url,
            "--user",
            "root",
            "--password",
            "calvin",
            "--authtype",
            "Session",
            "--schema_directory",
            str(SCHEMAS),
            "--skipschema",
            "--logdir",
            str(log_dir),
            "--timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    summary = _SUMMARY.findall(completed.stdout)
    assert summary, f"no validator summary:\n{completed.stdout}\n{completed.stderr}"
    passed, warned, failed, _ = (int(n) for n in summary[-1])
    failures, validated, current = [], [], "?"
    for line in next(log_dir.rglob("RedfishServiceValidatorDebug_*.log")).read_text().splitlines():
        if found := _VALIDATING.search(line):
            current = found.group(1)
            validated.append(current)
        elif found := _FAIL.search(line):
            failures.append(f"{current}: {found.group(1)}")
    return Report(passed, warned, failed, failures, validated)


@pytest.mark.parametrize("kind", KINDS)
def test_validator_finds_no_failure(hosts: dict[str, Host], kind: str, tmp_path: Path) -> None:
    report = run_validator(hosts[kind].url, tmp_path)
    counts = f"{kind}: {report.passed} pass, {report.warned} warn, {report.failed} fail"
    assert report.failed == 0, counts + "\n" + "\n".join(report.failures[:40])
    # The walk reached the resources a campaign uses, with history in them.
    reached = set(report.validated)
    expected = {"/redfish/v1/UpdateService/FirmwareInventory", "/redfish/v1/TaskService/Tasks"}
    if kind != GENERIC:
        expected |= {
            "/redfish/v1/Managers/iDRAC.Embedded.1/LogServices/Lclog/Entries",
            "/redfish/v1/JobService/Jobs",
        }
    assert expected <= reached, f"{counts}; not validated: {sorted(expected - reached)}"
    assert any("/TaskService/Tasks/" in uri for uri in reached), counts


def test_every_schema_the_simulator_names_is_vendored(hosts: dict[str, Host]) -> None:
    """$metadata is served without login and each schema it names is in our CSDL copy."""
    for kind, host in hosts.items():
        with host.client(login=False) as client:
            response = client.get("/redfish/v1/$metadata")
        assert response.status_code == 200, kind
        assert response.headers["content-type"].startswith("application/xml")
        named = set(re.findall(r'Uri="[^"]*/([A-Za-z]+_v1\.xml)"', response.text))
        missing = sorted(n for n in named if not (SCHEMAS / n).exists())
        assert not missing, f"{kind}: copy {missing} from DSP8010 into {SCHEMAS}"


def test_open_paths_answer_without_login(hosts: dict[str, Host]) -> None:
    with hosts[next(iter(PERSONALITIES))].client(login=False) as client:
        assert client.get("/redfish").json() == {"v1": "/redfish/v1/"}
        root = client.get("/redfish/v1").json()
        assert root["Tasks"] == {"@odata.id": "/redfish/v1/TaskService"}
        odata = client.get("/redfish/v1/odata").json()
        assert odata["@odata.context"] == "/redfish/v1/$metadata"
        assert {"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"} in odata["value"]
        assert client.get("/redfish/v1/Systems").status_code == 401
