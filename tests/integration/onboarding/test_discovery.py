"""Discovery end to end: the CLI and the API start DiscoveryWorkflow on a loopback /24
holding simulated iDRACs, a generic BMC, one with other credentials and a silent socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from temporalio.client import Client
from typer.testing import CliRunner

from activities.resources import Resources
from cli.main import app
from tests.integration.onboarding.conftest import (
    DELL_TAGS,
    GENERIC_TAG,
    IDRAC_PASSWORD,
    LOCKED_TAG,
    Api,
    Lab,
)
from tests.services.temporal import decoded_history


def _discover(api: Api, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["discover", *args, "--api-url", api.url, "--json"],
        env={"IDRAC_ORCH_API_TOKEN": api.token},
    )
    return result.exit_code, result.stdout, result.stderr


def _findings(api: Api, run_id: int) -> dict[str, dict[str, Any]]:
    with api.client() as client:
        page = client.get(f"/discoveries/{run_id}/findings", params={"limit": 500}).json()
    return {item["address"]: item for item in page["items"]}


async def test_discovery_identifies_what_answers_and_a_rerun_reports_the_difference(
    lab: Lab, api: Api, worker: Resources, onboarding_temporal: Client
) -> None:
    port = str(lab.simulator.port)
    code, out, err = await asyncio.to_thread(
        _discover, api, lab.network, "--port", port, "--timeout", "8"
    )
    assert code == 0, err
    run = json.loads(out)
    assert run["status"] == "completed"
    assert run["scanned"] == 254  # a /24's host addresses
    assert run["answered"] == 6  # the silent socket is no Redfish service
    assert sorted(run["diff"]["new"]) == sorted(lab.addresses.values())
    assert run["diff"]["enrolled"] == 6

    found = _findings(api, run["id"])
    first = found[lab.addresses[DELL_TAGS[0]]]
    assert first["vendor"] == "Dell"
    assert first["model"] == "PowerEdge R750"
    assert first["service_tag"] == DELL_TAGS[0]
    assert first["generation"] == "iDRAC9"
    assert first["firmware_version"]
    assert (first["tls"], first["credentials"]) == ("trusted", "ok")
    generic = found[lab.addresses[GENERIC_TAG]]
    assert (generic["vendor"], generic["generation"]) == ("Contoso", None)
    locked = found[lab.addresses[LOCKED_TAG]]
    assert locked["credentials"] == "rejected"
    assert locked["service_tag"] == LOCKED_TAG  # the service root shows it without a login
    assert locked["model"] is None  # the system resource does not
    assert lab.silent not in found
    # The history carries ranges and a profile id at most, never the password.
    payloads = await decoded_history(onboarding_temporal, run["workflow_id"])
    assert "ranges" in payloads and lab.network in payloads
    assert IDRAC_PASSWORD not in payloads

    # Change the world: one iDRAC goes silent, another stops accepting our login.
    gone, locked = lab.addresses[DELL_TAGS[1]], lab.addresses[DELL_TAGS[2]]
    await asyncio.to_thread(lab.control, DELL_TAGS[1], "offline", {"seconds": 3600 / 0.005})
    await asyncio.to_thread(lab.control, DELL_TAGS[2], "faults", {"wrong_credentials": True})
    code, out, err = await asyncio.to_thread(
        _discover, api, lab.network, "--port", port, "--timeout", "8"
    )
    assert code == 0, err
    again = json.loads(out)
    assert again["diff"]["new"] == []
    assert again["diff"]["gone"] == [gone]
    # What it could not read without a login (service tag, model) is not a change.
    assert again["diff"]["changed"] == [
        {"address": locked, "fields": {"credentials": ["ok", "rejected"]}}
    ]
    assert again["diff"]["unchanged"] == 4
    assert again["diff"]["enrolled"] == 0  # already enrolled: idempotent


async def test_exclusions_and_bad_ranges(lab: Lab, api: Api, worker: Resources) -> None:
    first = lab.addresses[DELL_TAGS[0]]
    with api.client() as client:
        response = await asyncio.to_thread(
            client.post,
            "/discoveries",
            json={"ranges": [f"{first}/32", lab.silent], "exclude": [lab.silent]},
        )
        assert response.status_code == 202, response.text
        assert response.json()["request"]["exclude"] == [f"{lab.silent}/32"]
        bad = await asyncio.to_thread(
            client.post, "/discoveries", json={"ranges": ["127.22.0.5/24"]}
        )
        assert bad.status_code == 422
        assert "host bits set" in bad.text
        assert bad.json()["detail"][0]["loc"] == ["body", "ranges", 0]
        empty = await asyncio.to_thread(client.post, "/discoveries", json={"ranges": []})
        assert empty.status_code == 422
    code, _, err = await asyncio.to_thread(_discover, api, "10.0.0.0/33")
    assert code == 2
    assert "ranges.0" in err and "not an IP address or CIDR range" in err


async def test_discover_then_validate_brings_servers_in(
    lab: Lab, api: Api, worker: Resources
) -> None:
    address = lab.addresses[DELL_TAGS[3]]
    code, out, err = await asyncio.to_thread(
        _discover, api, address, "--port", str(lab.simulator.port), "--validate"
    )
    assert code == 0, err
    run = json.loads(out)
    assert run["status"] == "completed"
    # Validated, not passed: nothing links it to an ESXi host and a cluster yet.
    assert (run["diff"]["validated"], run["diff"]["passed"]) == (1, 0)
    with api.client() as client:
        servers = client.get("/servers", params={"service_tag": DELL_TAGS[3]}).json()["items"]
        report = {r["address"]: r for r in client.get("/onboarding/report").json()}
    assert servers[0]["idrac_address"] == address and servers[0]["firmware_inventory"]
    assert report[address]["reason"].startswith("esxi_host: no ESXi host and cluster linked")
