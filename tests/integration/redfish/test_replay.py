"""Real BMC captures (tests/fixtures/captures/README.md) served over HTTPS on loopback and
read by our client: what it makes of an iDRAC9 3.34 and a Supermicro X13 as they really
answer, not as our simulator answers."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import BusyError, JobFailedError, UnsupportedError
from integrations.redfish.host_state import read_host_state
from integrations.redfish.models import ClientOptions, Credentials, JobRef, JobStatus
from simulators.idrac.tls import make_tls

CAPTURES = Path(__file__).parents[2] / "fixtures" / "captures"
SOI = CAPTURES / "sushy-oem-idrac"
BMCLIB = CAPTURES / "bmclib"
SUSHY = CAPTURES / "sushy"
TOKEN = "replay-token-1"
IDRAC_LC = "/redfish/v1/Dell/Managers/iDRAC.Embedded.1/DellLCService"
DELL_TASK = "/redfish/v1/TaskService/Tasks/JID_257309938313"
SIMPLE_UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"


def capture(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@dataclass
class Answer:
    status: int
    document: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Replay:
    """Answers by (method, path), query ignored; every request is recorded."""

    answers: dict[tuple[str, str], Answer]
    seen: list[tuple[str, str, bool]] = field(default_factory=list)  # method, path, had auth

    def serve_captures(self, *files: Path) -> None:
        """Each capture at its own @odata.id (with and without a trailing slash)."""
        for file in files:
            document = capture(file)
            self.answers[("GET", document["@odata.id"].rstrip("/"))] = Answer(200, document)


def handler_for(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            """Keep test output clean."""

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = self.path.split("?", 1)[0].rstrip("/")
            authed = bool(self.headers.get("X-Auth-Token") or self.headers.get("Authorization"))
            replay.seen.append((self.command, path, authed))
            answer = replay.answers.get((self.command, path)) or Answer(404, {})
            body = json.dumps(answer.document).encode()
            self.send_response(answer.status)
            for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

    return Handler


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    contexts, ca = make_tls(["127.0.0.1"], tmp_path_factory.mktemp("replay-tls"))
    return contexts["127.0.0.1"], ca


@pytest.fixture
def replay(tls: tuple[ssl.SSLContext, Path]) -> Iterator[tuple[Replay, str, Path]]:
    state = Replay(answers={})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.socket = tls[0].wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"https://127.0.0.1:{server.server_address[1]}", tls[1]
    finally:
        server.shutdown()
        server.server_close()


def client_for(url: str, ca: Path, **options: Any) -> RedfishClient:
    fast = {"poll_interval_s": 0.01, "backoff_s": 0.01, "backoff_max_s": 0.02, "retries": 2}
    return RedfishClient(
        url,
        Credentials(username="root", password="calvin"),
        ClientOptions(ca_bundle=ca, **{**fast, **options}),
    )


def idrac_334(replay: Replay) -> None:
    """The iDRAC9 3.34 of sushy-oem-idrac, plus the answers the captures lack (ours)."""
    replay.serve_captures(*(SOI / f"{n}.json" for n in ("root", "manager_collection",
                            "manager", "system", "task", "job_collection_expanded")))  # fmt: skip
    replay.answers[("GET", "/redfish/v1/Systems")] = Answer(
        200, {"Members": [{"@odata.id": "/redfish/v1/Systems/System.Embedded.1"}]}
    )
    replay.answers[("POST", "/redfish/v1/Sessions")] = Answer(
        201, {"Id": "1"}, {"X-Auth-Token": TOKEN, "Location": "/redfish/v1/Sessions/1"}
    )
    replay.answers[("POST", f"{IDRAC_LC}/Actions/DellLCService.GetRemoteServicesAPIStatus")] = (
        Answer(200, capture(SOI / "remote_services_api_status.json"))
    )
    updates = capture(BMCLIB / "updateservice_with_multipart.json")
    replay.answers[("GET", "/redfish/v1/UpdateService")] = Answer(200, updates)


async def test_idrac9_334_identity_readiness_and_host_state(replay) -> None:
    state, url, ca = replay
    idrac_334(state)
    async with client_for(url, ca) as client:
        identity = await client.identity()
        lifecycle = await client.lifecycle_status()
        host = await read_host_state(client)
    assert (identity.vendor, identity.model) == ("Dell Inc.", "PowerEdge R640")
    assert (identity.service_tag, identity.dell_system_id) == ("8CYCZ23", 1814)
    assert identity.bmc_version == "3.34.34.34" and identity.dell_oem
    assert lifecycle.ready and lifecycle.server_status == "OutOfPOST"
    assert ("POST", "/redfish/v1/Sessions", False) in state.seen, "login where the root links"
    assert host.last_reset_time is None and host.boot_state is None
    # The captured queue holds a reboot job still Running: a reboot under way, not settled.
    assert host.under_way() == ["RID_878460711202 running 100%: RED030 Reboot is complete."]


async def test_idrac9_334_task_with_registry_prefix_is_scheduled(replay) -> None:
    state, url, ca = replay
    idrac_334(state)
    ref = JobRef(job_id="JID_257309938313", location=DELL_TASK)
    async with client_for(url, ca) as client:
        info = await client.wait_for_job(ref, stop_at=frozenset({JobStatus.SCHEDULED}))
    assert info.status is JobStatus.SCHEDULED and info.state == "Scheduled"
    assert info.message_id == "IDRAC.2.5.JCP001"
    assert (
        info.describe()
        == "JID_257309938313 scheduled 0%: IDRAC.2.5.JCP001 Task successfully scheduled."
    )


@pytest.mark.parametrize(("capture_file", "message_id"), [
    ("error_running_job.json", "IDRAC.2.8.RAC0679"),
    ("error_pending_job.json", "IDRAC.2.8.LC068"),
])  # fmt: skip
async def test_captured_busy_answers_are_retried_then_reported(
    replay, capture_file, message_id
) -> None:
    """The HTTP status is ours (the captures are bodies); the busy verdict comes from the
    MessageId's suffix whatever its registry prefix."""
    state, url, ca = replay
    idrac_334(state)
    state.answers[("POST", SIMPLE_UPDATE)] = Answer(400, capture(SOI / capture_file))
    async with client_for(url, ca, retries=2) as client:
        with pytest.raises(BusyError) as busy:
            await client.simple_update("http://127.0.0.1:9/BIOS.EXE", apply_time="OnReset")
    assert busy.value.message_id == message_id
    assert f"-> HTTP 400: {message_id} " in str(busy.value)
    assert [s for s in state.seen if s[:2] == ("POST", SIMPLE_UPDATE)] == [
        ("POST", SIMPLE_UPDATE, True)
    ] * 3


def supermicro(replay: Replay) -> None:
    replay.serve_captures(*(BMCLIB / f"{n}.json" for n in ("smc_1.14.0_serviceroot",
                            "smc_1.14.0_systems", "smc_1.14.0_systems_1", "managers",
                            "managers_1", "tasks", "tasks_1_failed", "tasks_2")))  # fmt: skip
    replay.answers[("POST", "/redfish/v1/SessionService/Sessions")] = Answer(
        201, {"Id": "1"}, {"X-Auth-Token": TOKEN}
    )


async def test_supermicro_identity_without_dell_oem(replay) -> None:
    state, url, ca = replay
    supermicro(state)
    async with client_for(url, ca) as client:
        identity = await client.identity()
        host = await read_host_state(client)
    assert (identity.vendor, identity.model) == ("Supermicro", "SYS-510T-MR-EI018")
    assert identity.service_tag == "S482931X2814218", "SerialNumber, not the SKU placeholder"
    assert not identity.dell_oem and identity.dell_system_id is None
    assert (identity.bmc_version, identity.health) == ("01.13.04", "Critical")
    assert host.boot_state == "SystemHardwareInitializationComplete"
    assert [(j.job_id, j.status) for j in host.jobs] == [
        ("1", JobStatus.FAILED),
        ("2", JobStatus.COMPLETED),
    ]
    assert host.lc_ready and host.under_way() == [], "ended tasks are nothing under way"
    assert ("DELETE", "/redfish/v1/SessionService/Sessions/1", True) in state.seen


async def test_supermicro_failed_task_with_empty_messages(replay) -> None:
    state, url, ca = replay
    supermicro(state)
    ref = JobRef(job_id="1", location="/redfish/v1/TaskService/Tasks/1")
    async with client_for(url, ca) as client:
        with pytest.raises(JobFailedError) as failed:
            await client.wait_for_job(ref)
    assert str(failed.value) == "127.0.0.1: job 1 failed: Failed"


async def test_supermicro_scheduled_task_waits_for_a_reboot(replay) -> None:
    state, url, ca = replay
    supermicro(state)
    state.serve_captures(BMCLIB / "tasks_1_scheduled.json")
    ref = JobRef(job_id="1", location="/redfish/v1/TaskService/Tasks/1")
    async with client_for(url, ca) as client:
        info = await client.wait_for_job(ref, stop_at=frozenset({JobStatus.SCHEDULED}))
    assert info.status is JobStatus.SCHEDULED
    assert info.message is None and info.message_id is None, "empty strings are no message"


async def test_idrac9_5x_system_capture(replay) -> None:
    """The R6515 system of an iDRAC9 5.x (ComputerSystem v1_12_0) in place of the 3.34
    one: no LastResetTime and no BootProgress, so power, LC and POST state are all the
    reboot proof there is (tests/integration/redfish/test_reboot_proof.py)."""
    state, url, ca = replay
    idrac_334(state)
    state.serve_captures(BMCLIB / "dell_systems_embedded.1.json")
    async with client_for(url, ca) as client:
        identity = await client.identity()
        host = await read_host_state(client)
    assert (identity.model, identity.bios_version) == ("PowerEdge R6515", "2.6.6")
    assert host.power_state == "On" and host.health == "OK"
    assert host.last_reset_time is None and host.boot_state is None


async def test_dmtf_minimal_service_root(replay) -> None:
    """DMTF's bare-minimum service root (a DMTF mockup kept by sushy, not a capture): no
    SessionService, Systems or TaskService. HTTP Basic, no job queue, and one line
    saying what is missing."""
    state, url, ca = replay
    state.serve_captures(SUSHY / "bare_minimum_root.json")
    async with client_for(url, ca) as client:
        assert await client.transport.uses_basic()
        assert await client.list_jobs() == []
        with pytest.raises(UnsupportedError) as missing:
            await client.identity()
    assert str(missing.value) == "127.0.0.1: the service root links no Systems"
    assert [path for _, path, _ in state.seen] == ["/redfish/v1"], "only the open root read"
