"""vCenter sync end to end: vcsim's topology imported through the CLI and the API, hosts
linked to servers by service tag (vCenter's host names are typed nowhere), then a host
moved and one removed in vcsim and a re-sync that reports both; the worker's schedule."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session
from temporalio.client import Client, ScheduleIntervalSpec
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from activities.resources import Resources
from cli.campaign import Api as CliApi
from cli.discover import wait_for
from cli.main import app
from common.settings import Settings
from domain import inventory, vcenter_sync
from domain.runbook import CampaignState
from simulators.fleet import Fleet
from simulators.vcsim.harness import VcsimProcess
from store.models import Campaign
from tests.integration.onboarding.conftest import DELL_TAGS, Api, Lab
from tests.services.ports import free_port
from tests.services.temporal import decoded_history
from workers.schedules import ensure_schedules

A1, A2, B1 = DELL_TAGS[:3]  # servers; vCenter also shows a host no server has
STRANGER = "VCS0001"
VCENTER_PASSWORD = "vc-Sync-Pass-5521"


def _fleet() -> Fleet:
    def host(name: str, tag: str) -> dict[str, Any]:
        return {"name": name, "service_tag": tag, "vms": [{"name": f"{name}-vm"}]}

    return Fleet.model_validate(
        {
            "vcenter": {"username": "sync@vsphere.local", "password": VCENTER_PASSWORD},
            "datacenters": [
                {
                    "name": "ams",
                    "clusters": [
                        {
                            "name": "prod-a",
                            "hosts": [host("esx-a1.vc.test", A1), host("esx-a2.vc.test", A2)],
                        },
                        {
                            "name": "prod-b",
                            "hosts": [host("esx-b1.vc.test", B1), host("esx-b9.vc.test", STRANGER)],
                        },
                    ],
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """vcsim's certificate is self-signed: the lab-only opt-in (verification is tested in
    tests/integration/vcenter)."""
    return settings.model_copy(update={"vcenter_insecure": True})


@pytest.fixture(scope="module")
def vcsim() -> Iterator[VcsimProcess]:
    with VcsimProcess(_fleet(), port=free_port()) as process:
        yield process


def _cli(api: Api, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*args, "--api-url", api.url, "--json"], env={"IDRAC_ORCH_API_TOKEN": api.token}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def registered(api: Api, lab: Lab, vcsim: VcsimProcess) -> tuple[int, dict[str, int]]:
    """Servers known by service tag and iDRAC only, and the vCenter with its login."""
    with api.client() as client:
        servers = {}
        for tag in (A1, A2, B1):
            body = {"service_tag": tag, "idrac_address": lab.addresses[tag]}
            created = client.post("/servers", json=body)
            assert created.status_code == 201, created.text
            servers[tag] = created.json()["id"]
        login = {
            "name": "vcsim",
            "scope": "cidr",
            "cidr": f"{vcsim.host}/32",
            "username": "sync@vsphere.local",
            "password": VCENTER_PASSWORD,
        }
        profile = client.post("/credential-profiles", json=login)
        assert profile.status_code == 201, profile.text
        body = {
            "name": "vc-ams",
            "address": vcsim.url,
            "credential_profile_id": profile.json()["id"],
        }
        vcenter = client.post("/vcenters", json=body)
        assert vcenter.status_code == 201, vcenter.text
        return vcenter.json()["id"], servers


def _tags(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(e["service_tag"] for e in entries)


def _server(api: Api, server_id: int) -> tuple[str | None, str | None]:
    """(ESXi host name, cluster name) the API shows for the server."""
    with api.client() as client:
        server = client.get(f"/servers/{server_id}").json()
        if server["cluster_id"] is None:
            return server["esxi_host"], None
        return server["esxi_host"], client.get(f"/clusters/{server['cluster_id']}").json()["name"]


def _open_campaign(resources: Resources, cluster: str) -> int:
    """A campaign running over CLUSTER, as its workflow records it (no firmware is needed
    for what the sync reads: the status and the targets)."""
    with Session(resources.engine) as session:
        campaign = Campaign(
            name="rolling",
            spec={"targets": {"clusters": [cluster]}},
            status=CampaignState.RUNNING,
            created_by="tests",
        )
        session.add(campaign)
        session.commit()
        return campaign.id or 0


def _sync_by_api(api: Api, vcenter_id: int) -> dict[str, Any]:
    with api.client() as client:
        started = client.post(f"/vcenters/{vcenter_id}/sync")
        assert started.status_code == 202, started.text
    path = f"/vcenters/{vcenter_id}/syncs/{started.json()['id']}"
    return wait_for(CliApi(api.url, api.token), path)


def _finished_after(api: Api, path: str, before: int) -> dict[str, Any]:
    """The first run listed at PATH after the BEFORE-th, once it finished."""
    with api.client() as client:
        while True:
            runs = client.get(path).json()
            if runs["total"] > before and runs["items"][0]["status"] != "running":
                assert runs["total"] == before + 1
                return runs["items"][0]
            time.sleep(0.2)


async def test_sync_imports_links_by_service_tag_and_reports_moves_and_removals(
    api: Api,
    worker: Resources,
    vcsim: VcsimProcess,
    registered: tuple[int, dict[str, int]],
    onboarding_temporal: Client,
) -> None:
    vcenter_id, servers = registered

    code, out, err = await asyncio.to_thread(_cli, api, "vcenter", "sync", str(vcenter_id))
    assert code == 0, err
    run = json.loads(out)
    assert (run["status"], run["trigger"]) == ("completed", "api")
    report = run["report"]
    assert (report["datacenters"], report["clusters"], report["hosts"]) == (1, 2, 4)
    assert report["linked"] == 3
    assert _tags(report["new"]) == sorted([A1, A2, B1, STRANGER])
    assert [(e["service_tag"], e["name"]) for e in report["unmatched"]] == [
        (STRANGER, "esx-b9.vc.test")
    ]
    assert report["moved"] == report["removed"] == []
    # Linked by tag: the servers now carry vCenter's names for host and cluster.
    assert await asyncio.to_thread(_server, api, servers[A1]) == ("esx-a1.vc.test", "prod-a")
    assert await asyncio.to_thread(_server, api, servers[B1]) == ("esx-b1.vc.test", "prod-b")
    with api.client() as client:
        assert [d["name"] for d in client.get("/datacenters").json()["items"]] == ["ams"]
    payloads = await decoded_history(onboarding_temporal, run["workflow_id"])
    assert VCENTER_PASSWORD not in payloads

    # An administrator moves one host to the other cluster and removes another, whose
    # cluster a campaign is rolling through right now.
    campaign_id = await asyncio.to_thread(_open_campaign, worker, "prod-b")
    await asyncio.to_thread(vcsim.move_host, A2, "prod-b")
    await asyncio.to_thread(vcsim.remove_host, B1)

    run = await asyncio.to_thread(_sync_by_api, api, vcenter_id)
    assert run["status"] == "completed", run["error"]
    report = run["report"]
    assert report["new"] == []
    [moved] = report["moved"]
    assert (moved["service_tag"], moved["from_cluster"], moved["cluster"]) == (
        A2,
        "prod-a",
        "prod-b",
    )
    assert moved["server_id"] == servers[A2]
    [removed] = report["removed"]
    assert (removed["service_tag"], removed["cluster"]) == (B1, "prod-b")
    assert removed["open_campaigns"] == [campaign_id]  # reported, and still in it
    assert await asyncio.to_thread(_server, api, servers[A2]) == ("esx-a2.vc.test", "prod-b")
    # The removed host's server is kept as it was: the running campaign still finds it.
    assert await asyncio.to_thread(_server, api, servers[B1]) == ("esx-b1.vc.test", "prod-b")

    code, out, err = await asyncio.to_thread(_cli, api, "vcenter", "syncs", str(vcenter_id))
    assert code == 0, err
    latest, first = json.loads(out)
    assert (latest["id"], first["report"]["linked"]) == (run["id"], 3)
    # Nothing changed since: a removal is reported once, not at every sync.
    again = (await asyncio.to_thread(_sync_by_api, api, vcenter_id))["report"]
    assert (again["new"], again["moved"], again["removed"]) == ([], [], [])


async def test_worker_schedules_sync_every_vcenter_sweep_every_idrac_and_follow_settings(
    api: Api, worker: Resources, registered: tuple[int, dict[str, int]], onboarding_temporal: Client
) -> None:
    vcenter_id = registered[0]
    settings = worker.settings
    await ensure_schedules(onboarding_temporal, settings)
    await ensure_schedules(onboarding_temporal, settings)  # a second worker starting: no error
    off = settings.model_copy(
        update={"vcenter_sync_interval_minutes": 0, "inventory_sweep_interval_minutes": 0}
    )
    sync = onboarding_temporal.get_schedule_handle(vcenter_sync.SCHEDULE_ID)
    sweep = onboarding_temporal.get_schedule_handle(inventory.SCHEDULE_ID)
    try:
        [interval] = (await sweep.describe()).schedule.spec.intervals
        assert interval == ScheduleIntervalSpec(every=timedelta(minutes=15))  # the default
        longer = settings.model_copy(update={"vcenter_sync_interval_minutes": 240})
        await ensure_schedules(onboarding_temporal, longer)
        [interval] = (await sync.describe()).schedule.spec.intervals
        assert interval == ScheduleIntervalSpec(every=timedelta(minutes=240))

        with api.client() as client:
            before = client.get(f"/vcenters/{vcenter_id}/syncs").json()["total"]
        await sync.trigger()
        latest = await asyncio.to_thread(
            _finished_after, api, f"/vcenters/{vcenter_id}/syncs", before
        )
        assert (latest["trigger"], latest["status"]) == ("schedule", "completed")

        await sweep.trigger()
        latest = await asyncio.to_thread(_finished_after, api, "/inventory-sweeps", 0)
        assert (latest["trigger"], latest["status"]) == ("schedule", "completed")
        assert (latest["servers"], latest["read"]) == (3, 3)  # this module's servers

        await ensure_schedules(onboarding_temporal, off)  # interval 0: on demand only
        for handle in (sync, sweep):
            with pytest.raises(RPCError) as gone:
                await handle.describe()
            assert gone.value.status == RPCStatusCode.NOT_FOUND
    finally:
        await ensure_schedules(onboarding_temporal, off)


async def test_a_vcenter_that_does_not_answer_fails_its_run_with_the_reason(
    api: Api, worker: Resources, registered: tuple[int, dict[str, int]]
) -> None:
    """Nothing listens at the address (after retries): the run says so, the CLI exits 1."""
    with api.client() as client:
        profile = client.get(f"/vcenters/{registered[0]}").json()["credential_profile_id"]
        dead = f"https://127.0.0.1:{free_port()}/sdk"
        body = {"name": "vc-dead", "address": dead, "credential_profile_id": profile}
        vcenter = client.post("/vcenters", json=body)
        assert vcenter.status_code == 201, vcenter.text
        unregistered = client.post("/vcenters", json={"name": "vc-nologin", "address": dead})
        refused = client.post(f"/vcenters/{unregistered.json()['id']}/sync")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "credential_profile_id"

    code, out, err = await asyncio.to_thread(
        _cli, api, "vcenter", "sync", str(vcenter.json()["id"])
    )
    assert code == 1
    run = json.loads(out)
    assert run["status"] == "failed" and run["report"] is None
    assert "127.0.0.1" in run["error"] and VCENTER_PASSWORD not in run["error"]
    assert "failed" in err


async def test_a_vcenter_without_a_chosen_login_takes_the_vcenter_login_of_its_datacenter(
    api: Api, worker: Resources, vcsim: VcsimProcess, onboarding_temporal: Client
) -> None:
    """vCenter logins are a hierarchy of their own: the iDRAC profiles (a global one
    exists) never open a vCenter; a vCenter profile for its datacenter does."""
    with api.client() as client:
        site = client.post("/datacenters", json={"name": "site-hier", "timezone": "UTC"})
        unscoped = client.post("/vcenters", json={"name": "vc-bare", "address": vcsim.url})
        refused = client.post(f"/vcenters/{unscoped.json()['id']}/sync")
        login = {
            "name": "vc-site-hier",
            "login_for": "vcenter",
            "scope": "datacenter",
            "datacenter_id": site.json()["id"],
            "username": "sync@vsphere.local",
            "password": VCENTER_PASSWORD,
        }
        profile = client.post("/credential-profiles", json=login)
        host_scoped = client.post(
            "/credential-profiles",
            json={
                **login,
                "name": "vc-one",
                "scope": "host",
                "datacenter_id": None,
                "server_id": 1,
            },
        )
        body = {"name": "vc-hier", "address": vcsim.url, "datacenter_id": site.json()["id"]}
        vcenter = client.post("/vcenters", json=body)
    assert refused.status_code == 422
    assert "no profile matches this vCenter" in refused.text
    assert (profile.status_code, profile.json()["login_for"]) == (201, "vcenter"), profile.text
    assert host_scoped.status_code == 422 and "host overrides are for iDRACs" in host_scoped.text
    assert vcenter.status_code == 201 and vcenter.json()["credential_profile_id"] is None

    run = await asyncio.to_thread(_sync_by_api, api, vcenter.json()["id"])
    assert run["status"] == "completed", run["error"]
    assert run["report"]["hosts"] > 0
    assert VCENTER_PASSWORD not in await decoded_history(onboarding_temporal, run["workflow_id"])
