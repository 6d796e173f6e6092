"""DMTF's Redfish Service Validator finds no failure on any simulator personality.

The validator (PyPI ``redfish-service-validator``) walks every resource from the service
root and checks each payload against DMTF's CSDL schemas, vendored in
tests/conformance/redfish-csdl so the run is offline. Before it runs, every host has a
finished update, a staged one and a reboot behind it, so tasks, jobs and log entries are
checked too, not only empty collections.
"""

from __future__ import annotations

import random
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from simulators.fleet import HostSpec
from simulators.idrac.personality import PERSONALITIES
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator

SCHEMAS = Path(__file__).resolve().parents[2] / "conformance" / "redfish-csdl"
VALIDATOR = Path(sys.executable).parent / "rf_service_validator"
GENERIC = "generic"
KINDS = [*PERSONALITIES, GENERIC]
_SUMMARY = re.compile(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|")
_VALIDATING = re.compile(r" - Validating (\S+?)\.\.\.$")
_FAIL = re.compile(r" - FAIL - (.*)$")


def _spec(index: int, kind: str) -> HostSpec:
    tag = f"CONF{index:03d}"
    if kind == GENERIC:
        return HostSpec(name=tag.lower(), service_tag=tag, generic=True, model="Contoso X1")
    return HostSpec(name=tag.lower(), service_tag=tag, personality=kind)


@dataclass
class Hosts:
    urls: dict[str, str]  # personality (or "generic") -> base URL
    ca: str

    def client(self, kind: str, **options: object) -> httpx.Client:
        trust = ssl.create_default_context(cafile=self.ca)
        return httpx.Client(base_url=self.urls[kind], verify=trust, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """One simulated host per personality, each with jobs and log entries to validate."""
    specs = {kind: _spec(i, kind) for i, kind in enumerate(KINDS)}
    sim = IdracSimulator(
        list(specs.values()),
        base_address=f"127.22.{random.randint(0, 250)}.1",
        port=0,
        time_scale=0.002,
        state_dir=tmp_path_factory.mktemp("conformance-sim"),
    )
    with SimulatorThread(sim) as running:
        found = Hosts(
            {kind: running.url_of(spec.service_tag) for kind, spec in specs.items()},
            str(running.ca_path),
        )
        for kind in KINDS:
            with found.client(kind, auth=("root", "calvin")) as client:
                _give_history(client)
        for spec in specs.values():
            _wait_until_settled(running.control_url, spec.service_tag)
        yield found


def _give_history(client: httpx.Client) -> None:
    """A diagnostics update that completes, a BIOS update staged OnReset, a reboot."""
    for name, apply_time in (
        ("Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE", "Immediate"),
        ("BIOS_8MRPC_WN64_2.11.2.EXE", "OnReset"),
    ):
        response = client.post(
            "/redfish/v1/UpdateService/MultipartUpload",
            files={
                "UpdateParameters": (
                    None,
                    f'{{"@Redfish.OperationApplyTime": "{apply_time}"}}',
                    "application/json",
                ),
                "UpdateFile": (name, b"MZ fake DUP\n", "application/octet-stream"),
            },
        )
        assert response.status_code == 202, response.text
    system = client.get("/redfish/v1/Systems").json()["Members"][0]["@odata.id"]
    reset = client.post(
        f"{system}/Actions/ComputerSystem.Reset", json={"ResetType": "ForceRestart"}
    )
    assert reset.status_code == 204, reset.text


def _wait_until_settled(control_url: str, tag: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = httpx.get(f"{control_url}/hosts/{tag}").json()
        if state["lc_status"] == "Ready" and set(state["jobs"].values()) <= {
            "Completed",
            "RebootCompleted",
        }:
            return
        time.sleep(0.05)
    raise AssertionError(f"{tag} did not settle: {state}")


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
def test_validator_finds_no_failure(hosts: Hosts, kind: str, tmp_path: Path) -> None:
    report = run_validator(hosts.urls[kind], tmp_path)
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


def test_every_schema_the_simulator_names_is_vendored(hosts: Hosts) -> None:
    """$metadata is served without login and each schema it names is in our CSDL copy."""
    for kind in KINDS:
        with hosts.client(kind) as client:
            response = client.get("/redfish/v1/$metadata")
        assert response.status_code == 200, kind
        assert response.headers["content-type"].startswith("application/xml")
        named = set(re.findall(r'Uri="[^"]*/([A-Za-z]+_v1\.xml)"', response.text))
        missing = sorted(n for n in named if not (SCHEMAS / n).exists())
        assert not missing, f"{kind}: copy {missing} from DSP8010 into {SCHEMAS}"


def test_open_paths_answer_without_login(hosts: Hosts) -> None:
    with hosts.client(next(iter(PERSONALITIES))) as client:
        assert client.get("/redfish").json() == {"v1": "/redfish/v1/"}
        root = client.get("/redfish/v1").json()
        assert root["Tasks"] == {"@odata.id": "/redfish/v1/TaskService"}
        odata = client.get("/redfish/v1/odata").json()
        assert odata["@odata.context"] == "/redfish/v1/$metadata"
        assert {"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"} in odata["value"]
        assert client.get("/redfish/v1/Systems").status_code == 401
