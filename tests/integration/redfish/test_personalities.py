"""What each simulated iDRAC9 line shows a client, and the task/log behaviour of all of them.

Each test takes fresh hosts and talks plain Redfish over verified TLS, asserting what a
client of a real iDRAC of that line would see (sources in docs/redfish.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from simulators.idrac.personality import PERSONALITIES
from tests.integration.redfish.personality_hosts import (
    DELL_MANAGER,
    GENERIC,
    KINDS,
    Host,
    Hosts,
    personality_hosts,
    push,
    reset,
    system_path,
)

DIAGS = "Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE"
BIOS = "BIOS_8MRPC_WN64_2.11.2.EXE"
UPDATE = "/redfish/v1/UpdateService"
LCLOG = f"{DELL_MANAGER}/LogServices/Lclog/Entries"
SEL = f"{DELL_MANAGER}/LogServices/Sel/Entries"


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with personality_hosts(tmp_path_factory.mktemp("sim"), copies=10, time_scale=0.002) as hosts:
        yield hosts


def _follow(client: httpx.Client, location: str) -> list[tuple[int, dict]]:
    """Poll a task monitor until it ends, then a while longer; every answer, in order."""
    answers: list[tuple[int, dict]] = []
    after_end = 0
    while after_end < 50:
        response = client.get(location)
        answers.append((response.status_code, response.json()))
        if response.status_code == 200:
            after_end += 1
        assert len(answers) < 20_000, "task never ended"
    return answers


@pytest.mark.parametrize("kind", KINDS)
def test_task_answers_from_its_202_until_well_after_it_ends(pool: Hosts, kind: str) -> None:
    with pool.take(kind).client() as client:
        submitted = push(client, DIAGS)
        assert submitted.status_code == 202
        answers = _follow(client, submitted.headers["Location"])
    assert {status for status, _ in answers} <= {200, 202}, [s for s, _ in answers][:20]
    assert answers[0][1]["TaskState"] != "Completed"  # it was followed from the start
    assert answers[-1][1]["TaskState"] == "Completed"


@pytest.mark.parametrize("kind", list(PERSONALITIES))
def test_message_ids_carry_the_lines_registry(pool: Hosts, kind: str) -> None:
    registry = PERSONALITIES[kind].registry
    with pool.take(kind).client() as client:
        location = push(client, DIAGS).headers["Location"]
        task = _follow(client, location)[-1][1]
        refused = client.post(
            f"{UPDATE}/Actions/UpdateService.SimpleUpdate",
            json={"ImageURI": f"{UPDATE}/FirmwareInventory/Previous-1-2"},
        )
    assert task["Messages"][0]["MessageId"] == f"{registry}.RED001"
    assert task["Oem"]["Dell"]["MessageId"] == f"{registry}.RED001"
    assert refused.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"] == (
        f"{registry}.SUP024"
    )


@pytest.mark.parametrize(
    ("kind", "has_reset_time"),
    [("idrac9-4.x", False), ("idrac9-5.x", False), ("idrac9-7.x", True), (GENERIC, True)],
)
def test_last_reset_time_only_where_real_captures_have_it(
    pool: Hosts, kind: str, has_reset_time: bool
) -> None:
    with pool.take(kind).client() as client:
        system = client.get(system_path(client)).json()
    assert ("LastResetTime" in system) is has_reset_time


def test_lines_differ_in_schema_versions_apply_times_and_job_times(pool: Hosts) -> None:
    seen = {}
    for kind in PERSONALITIES:
        with pool.take(kind).client() as client:
            service = client.get(UPDATE).json()
            location = push(client, DIAGS).headers["Location"]
            task = _follow(client, location)[-1][1]
            seen[kind] = (
                client.get("/redfish/v1").json()["RedfishVersion"],
                client.get(system_path(client)).json()["@odata.type"],
                service["Actions"]["#UpdateService.SimpleUpdate"][
                    "@Redfish.OperationApplyTimeSupport"
                ]["SupportedValues"],
                "#UpdateService.StartUpdate" in service["Actions"],
                task["Oem"]["Dell"]["StartTime"],
                task["StartTime"],
            )
    old, mid, new = (seen[k] for k in ("idrac9-4.x", "idrac9-5.x", "idrac9-7.x"))
    assert len({old[1], mid[1], new[1]}) == 3  # a ComputerSystem version per line
    assert mid[0] == "1.11.0"  # iDRAC 5.10 capture
    assert old[2] == ["Immediate", "OnReset"] and not old[3]
    assert "OnStartUpdateRequest" in new[2] and new[3]
    assert old[4] == "TIME_NOW"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", new[4])
    for line in seen.values():  # the DMTF Task's time always carries its offset
        assert datetime.fromisoformat(line[5]).utcoffset() is not None


def test_legacy_http_push_stages_a_package_that_simple_update_installs(pool: Hosts) -> None:
    host = pool.take("idrac9-5.x")
    with host.client() as client:
        push_uri = client.get(UPDATE).json()["HttpPushUri"]
        etag = client.get(push_uri).headers["ETag"]
        stale = client.post(push_uri, files={"file": (DIAGS, b"MZ")}, headers={"If-Match": '"0"'})
        staged = client.post(push_uri, files={"file": (DIAGS, b"MZ")}, headers={"If-Match": etag})
        assert stale.status_code == 412
        assert staged.status_code == 201
        member = staged.json()
        assert member["Id"] == "Available-25806-4302A01"
        assert client.get(staged.headers["Location"]).json()["Version"] == "4302A01"
        job = client.post(
            f"{UPDATE}/Actions/UpdateService.SimpleUpdate",
            json={"ImageURI": member["@odata.id"]},
        )
        assert _follow(client, job.headers["Location"])[-1][1]["TaskState"] == "Completed"
    assert host.state()["firmware"]["diagnostics"] == "4302A01"


def test_dell_install_action_installs_a_staged_package_at_next_reboot(pool: Hosts) -> None:
    host = pool.take("idrac9-4.x")
    with host.client() as client:
        service = client.get(UPDATE).json()
        install = service["Actions"]["Oem"]["#DellUpdateService.Install"]
        assert install["InstallUpon@Redfish.AllowableValues"] == [
            "Now",
            "NowAndReboot",
            "NextReboot",
        ]
        etag = client.get(service["HttpPushUri"]).headers["ETag"]
        member = client.post(
            service["HttpPushUri"], files={"file": (BIOS, b"MZ")}, headers={"If-Match": etag}
        ).json()
        job = client.post(
            install["target"],
            json={"SoftwareIdentityURIs": [member["@odata.id"]], "InstallUpon": "NextReboot"},
        )
        assert job.status_code == 202
        assert host.state()["firmware"]["bios"] != "2.11.2"
        reset(client)
    host.wait_until_settled()
    assert host.state()["firmware"]["bios"] == "2.11.2"


def test_on_start_update_request_waits_for_start_update(pool: Hosts) -> None:
    host = pool.take("idrac9-7.x")
    with host.client() as client:
        location = push(client, DIAGS, "OnStartUpdateRequest").headers["Location"]
        later = push(client, DIAGS).headers["Location"]
        assert _follow(client, later)[-1][1]["TaskState"] == "Completed"
        assert client.get(location).json()["Oem"]["Dell"]["JobState"] == "Scheduled"
        started = client.post(f"{UPDATE}/Actions/UpdateService.StartUpdate", json={})
        assert started.status_code == 204
        assert _follow(client, location)[-1][1]["TaskState"] == "Completed"
    assert host.state()["firmware"]["diagnostics"] == "4302A01"


def test_nfs_share_is_accepted_and_fails_in_the_job_like_an_unreachable_share(
    pool: Hosts,
) -> None:
    with pool.take("idrac9-7.x").client() as client:
        job = client.post(
            f"{UPDATE}/Actions/UpdateService.SimpleUpdate",
            json={"ImageURI": "192.0.2.1:/nfs/" + DIAGS, "TransferProtocol": "NFS"},
        )
        assert job.status_code == 202
        task = _follow(client, job.headers["Location"])[-1][1]
    assert task["TaskState"] == "Exception"
    assert task["Messages"][0]["MessageId"].endswith(".SYS261")


@pytest.mark.parametrize("kind", list(PERSONALITIES))
def test_logs_record_updates_reboots_and_faults(pool: Hosts, kind: str) -> None:
    host = pool.take(kind)
    with host.client() as client:
        diags = push(client, DIAGS).headers["Location"].rsplit("/", 1)[1]
        _follow(client, f"/redfish/v1/TaskService/Tasks/{diags}")
        host.set_faults(critical_after_boot=True, job_fails="RED007")
        push(client, BIOS)
        host.wait_for("failed", lambda: "Failed" in host.state()["jobs"].values())
        reset(client)
        host.wait_for("faulted", lambda: host.state()["faults"] and _has(client, SEL, "CPU0001"))
        host.wait_until_settled()
        lclog = client.get(LCLOG).json()["Members"]
        sel = client.get(SEL).json()["Members"]
        critical = client.get(LCLOG, params={"$filter": "Severity eq 'Critical'"}).json()
    lc_ids = [e["MessageId"] for e in lclog]
    assert int(lclog[0]["Id"]) > int(lclog[-1]["Id"])  # newest first
    done = next(e for e in lclog if e["MessageId"] == "JCP037")
    assert done["MessageArgs"] == [diags]
    assert {"SYS1000", "SYS1001", "RED007", "CPU0001"} <= set(lc_ids)
    assert [e["MessageId"] for e in sel if e["Severity"] == "Critical"] == ["CPU0001"]
    assert "SYS1003" in [e["MessageId"] for e in sel]
    assert {e["MessageId"] for e in critical["Members"]} == {"RED007", "CPU0001"}


def test_idrac_reset_is_logged_and_moves_the_managers_reset_time(pool: Hosts) -> None:
    host = pool.take("idrac9-7.x")
    with host.client() as client:
        before = client.get(DELL_MANAGER).json()["LastResetTime"]
        client.post(f"{DELL_MANAGER}/Actions/Manager.Reset", json={"ResetType": "GracefulRestart"})
    host.wait_for("back", lambda: _reset_time(host) not in (None, before))
    with host.client() as client:
        reasons = [e["Message"] for e in client.get(LCLOG).json()["Members"]]
    assert "The iDRAC firmware was rebooted with the following reason: user initiated." in (reasons)


@pytest.mark.parametrize("kind", ["idrac9-5.x", GENERIC])
def test_network_resources_show_the_address_clients_connect_to(pool: Hosts, kind: str) -> None:
    host = pool.take(kind)
    with host.client() as client:
        manager = client.get("/redfish/v1/Managers").json()["Members"][0]["@odata.id"]
        nics = client.get(f"{manager}/EthernetInterfaces").json()["Members"]
        nic = client.get(nics[0]["@odata.id"]).json()
        protocol = client.get(f"{manager}/NetworkProtocol").json()
        system_nics = client.get(f"{system_path(client)}/EthernetInterfaces").json()
    assert nic["IPv4Addresses"][0]["Address"] == host.url.split("//")[1].rsplit(":", 1)[0]
    assert protocol["HTTPS"]["ProtocolEnabled"] is True
    assert system_nics["Members@odata.count"] == 1


def test_a_session_can_be_read_back(pool: Hosts) -> None:
    host: Host = pool.take("idrac9-4.x")
    with host.client(login=False) as client:
        login = client.post(
            "/redfish/v1/SessionService/Sessions", json={"UserName": "root", "Password": "calvin"}
        )
        token = {"X-Auth-Token": login.headers["X-Auth-Token"]}
        session = client.get(login.headers["Location"], headers=token)
    assert session.status_code == 200
    assert session.json()["UserName"] == "root"


def _has(client: httpx.Client, entries: str, message_id: str) -> bool:
    return any(e["MessageId"] == message_id for e in client.get(entries).json()["Members"])


def _reset_time(host: Host) -> str | None:
    """The manager's LastResetTime, or None while the iDRAC is away."""
    try:
        with host.client() as client:
            response = client.get(DELL_MANAGER)
    except httpx.TransportError:
        return None
    return response.json().get("LastResetTime") if response.status_code == 200 else None
