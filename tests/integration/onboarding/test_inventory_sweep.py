"""Inventory and health sweep end to end: simulated iDRACs over HTTPS, one taken offline,
one address that accepts and never answers, and a server whose address now holds another
machine; the sweep stores what the others answer (firmware, rollups, sensors, the service
tag and SystemID), names the three it could not read (the third as a service-tag
mismatch), and a fan failing shows as a health change. The campaign dry run then plans on
the swept inventory."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from activities.resources import Resources
from cli.campaign import Api as CliApi
from cli.discover import wait_for
from cli.main import app
from common.settings import Settings
from store.models import FirmwarePackage
from tests.integration.onboarding.conftest import DELL_TAGS, Api, Lab

HEALTHY, OFFLINE, FAN, ELSEWHERE = DELL_TAGS
SILENT_TAG = "SILENT1"
MOVED_TAG = "MOVED01"  # its iDRAC address now answers as ELSEWHERE


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """A short per-host limit: the silent address costs the sweep seconds, not minutes."""
    return settings.model_copy(update={"inventory_host_timeout_s": 3.0})


def _cli(api: Api, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*args, "--api-url", api.url, "--json"], env={"IDRAC_ORCH_API_TOKEN": api.token}
    )
    return result.exit_code, result.stdout, result.stderr


def _servers(api: Api, lab: Lab) -> dict[str, int]:
    """Managed servers in one cluster, one at the address that never answers, one at the
    address of another machine."""
    with api.client() as client:
        vcenter = client.post("/vcenters", json={"name": "vc", "address": "vc.lab.test"})
        body = {"name": "sweep-prod", "vcenter_id": vcenter.json()["id"]}
        cluster = client.post("/clusters", json=body).json()["id"]
        addresses = {**{t: lab.addresses[t] for t in (HEALTHY, OFFLINE, FAN)}}
        addresses[SILENT_TAG] = lab.silent
        addresses[MOVED_TAG] = lab.addresses[ELSEWHERE]
        ids = {}
        for tag, address in addresses.items():
            body = {"service_tag": tag, "idrac_address": address, "cluster_id": cluster}
            created = client.post("/servers", json=body)
            assert created.status_code == 201, created.text
            ids[tag] = created.json()["id"]
        return ids


def _planned(api: Api, campaign: Path) -> tuple[list[str], list[str]]:
    """(hosts planned for work, skip reasons) of `campaign plan` on the stored inventory."""
    code, out, err = _cli(api, "campaign", "plan", str(campaign))
    assert code == 0, err
    clusters = json.loads(out)["plan"]["clusters"]
    planned = sorted(h["service_tag"] for c in clusters for h in c["hosts"])
    return planned, [s["reason"] for c in clusters for s in c["skipped"]]


def _get(api: Api, path: str) -> Any:
    with api.client() as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return response.json()


async def test_sweep_stores_inventory_and_health_and_names_what_did_not_answer(
    lab: Lab, api: Api, worker: Resources, tmp_path: Path
) -> None:
    ids = await asyncio.to_thread(_servers, api, lab)
    await asyncio.to_thread(lab.control, OFFLINE, "offline", {"seconds": 3600 / 0.005})
    with Session(worker.engine) as session:
        package = FirmwarePackage(
            name="BIOS", component_id="159", version="9.9.9", sha256="cd" * 32, file_name="b.exe"
        )
        session.add(package)
        session.commit()
        package_id = package.id
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "name: swept\nspec:\n  targets: {clusters: [sweep-prod]}\n"
        f"  firmware: [{{component_id: '159', version: 9.9.9, package_id: {package_id}}}]\n"
    )
    planned, skipped = await asyncio.to_thread(_planned, api, campaign)
    assert planned == [] and all(r.startswith("no firmware inventory") for r in skipped)

    code, out, err = await asyncio.to_thread(_cli, api, "inventory", "sweep")
    assert code == 0, err
    sweep = json.loads(out)
    assert (sweep["status"], sweep["servers"], sweep["read"]) == ("completed", 5, 2)
    missed = {s["service_tag"]: s["error"] for s in sweep["unreachable_servers"]}
    assert sorted(missed) == sorted([OFFLINE, SILENT_TAG, MOVED_TAG]) and all(missed.values())
    assert missed[MOVED_TAG].startswith(
        f"service tag mismatch: {ELSEWHERE} answers at this address, not {MOVED_TAG}"
    )
    moved = await asyncio.to_thread(_get, api, f"/servers/{ids[MOVED_TAG]}/readings")
    (reading,) = moved["items"]
    assert (reading["tag_mismatch"], reading["service_tag"]) == (True, ELSEWHERE)
    assert reading["firmware"] is None and reading["sensors"] == []
    moved_server = await asyncio.to_thread(_get, api, f"/servers/{ids[MOVED_TAG]}")
    assert moved_server["firmware_inventory"] is None and moved_server["last_seen_at"] is None

    server = await asyncio.to_thread(_get, api, f"/servers/{ids[HEALTHY]}")
    assert server["health"] == "OK" and server["last_seen_at"] is not None
    assert {item["component_id"] for item in server["firmware_inventory"]} >= {"159", "25227"}
    code, out, err = await asyncio.to_thread(_cli, api, "inventory", "health", HEALTHY)
    assert code == 0, err
    health = json.loads(out)
    latest = health["latest"]
    assert latest["reachable"] and latest["health"] == "OK"
    assert (latest["service_tag"], latest["system_id"], latest["tag_mismatch"]) == (
        HEALTHY,
        "0x0A6B",
        False,
    )
    assert server["system_id"] == "0x0A6B"
    assert {"fans", "temperatures", "power_supplies", "memory", "storage"} <= set(latest["rollups"])
    kinds = {s["kind"] for s in latest["sensors"]}
    assert kinds == {"temperature", "fan", "power_supply"}
    inlet = next(s for s in latest["sensors"] if s["name"] == "System Board Inlet Temp")
    assert (inlet["units"], inlet["health"]) == ("Cel", "OK") and inlet["reading"] > 0
    assert health["changes"] == []
    offline = await asyncio.to_thread(_get, api, f"/servers/{ids[OFFLINE]}/health")
    assert offline["latest"]["reachable"] is False and offline["health"] is None

    # The swept inventory is what the dry run plans on: the two that answered get work.
    planned, skipped = await asyncio.to_thread(_planned, api, campaign)
    assert planned == sorted([HEALTHY, FAN])

    # A fan stops; the next sweep (through the API) records the change.
    await asyncio.to_thread(lab.control, FAN, "faults", {"fan_failed": True})
    with api.client() as client:
        started = client.post("/inventory-sweeps")
        assert started.status_code == 202, started.text
    second = await asyncio.to_thread(_finished, api, f"/inventory-sweeps/{started.json()['id']}")
    assert (second["status"], second["read"], second["unreachable"]) == ("completed", 2, 3)
    health = await asyncio.to_thread(_get, api, f"/servers/{ids[FAN]}/health")
    assert health["health"] == "Critical"
    assert [(c["was"], c["now"]) for c in health["changes"]] == [("OK", "Critical")]
    assert health["latest"]["rollups"]["fans"] == "Critical"
    [stopped] = [s for s in health["latest"]["sensors"] if s["health"] == "Critical"]
    assert (stopped["kind"], stopped["reading"]) == ("fan", 0)
    history = await asyncio.to_thread(_get, api, f"/servers/{ids[FAN]}/readings")
    assert [r["health"] for r in history["items"]] == ["Critical", "OK"]
    # Firmware joins the history when it changes, not at every sweep.
    assert history["items"][0]["firmware"] is None and history["items"][1]["firmware"]


def _finished(api: Api, path: str) -> dict[str, Any]:
    return wait_for(CliApi(api.url, api.token), path)
