"""Onboarding validation end to end: import, `onboard validate`, the report in three forms,
servers created with their firmware inventory, and failed ones kept out of campaigns."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from activities.campaign_plan import CampaignPlanActivities
from activities.resources import Resources
from cli.main import app
from domain.campaign_spec import CampaignSpec, CampaignStartInput
from store.models import Campaign, FirmwarePackage
from tests.integration.onboarding.conftest import DELL_TAGS, LOCKED_TAG, Api, Lab
from tests.integration.onboarding.tls_servers import bad_tls_server

PASSES, LC_STUCK, UNLINKED = DELL_TAGS[0], DELL_TAGS[1], DELL_TAGS[2]


def _cli(api: Api, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*args, "--api-url", api.url], env={"IDRAC_ORCH_API_TOKEN": api.token}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def bad_certificates(lab: Lab) -> Iterator[dict[str, str]]:
    """A self-signed iDRAC and one whose (trusted) certificate expired."""
    port = lab.simulator.port
    self_signed, expired = lab.address(201), lab.address(202)
    with (
        bad_tls_server(self_signed, port, lab.directory),
        bad_tls_server(expired, port, lab.directory, expired=True, issuer=lab.site_ca),
    ):
        yield {"self-signed": self_signed, "expired": expired}


def _plan(resources: Resources, package_id: int) -> tuple[list[str], list[str]]:
    spec = CampaignSpec.model_validate(
        {
            "targets": {"clusters": ["ams-prod"]},
            "firmware": [{"component_id": "159", "version": "9.9.9", "package_id": package_id}],
        }
    )
    with Session(resources.engine) as session:
        campaign = Campaign(name="gate", spec={}, created_by="tests")
        session.add(campaign)
        session.commit()
        start = CampaignStartInput(campaign_id=campaign.id or 0, spec=spec)
    plan = ActivityEnvironment().run(CampaignPlanActivities(resources).plan_campaign, start)
    return [h.host.service_tag for c in plan.clusters for h in c.hosts], plan.unresolved


async def test_validation_reports_each_check_and_gates_campaigns(
    lab: Lab, api: Api, worker: Resources, bad_certificates: dict[str, str], tmp_path: Path
) -> None:
    with api.client() as client:
        client.post("/datacenters", json={"name": "ams", "timezone": "Europe/Amsterdam"})
        vc = client.post("/vcenters", json={"name": "vc", "address": "https://vc.lab.test"})
        client.post("/clusters", json={"name": "ams-prod", "vcenter_id": vc.json()["id"]})
    addresses = lab.addresses
    rows = [
        f"{addresses[PASSES]},ams,ams-prod,esx-a.lab.test",
        f"{addresses[LC_STUCK]},ams,ams-prod,esx-b.lab.test",
        f"{addresses[UNLINKED]},ams,,",
        f"{addresses[LOCKED_TAG]},ams,ams-prod,esx-c.lab.test",
        f"{lab.silent},,,",
        f"{bad_certificates['self-signed']},,,",
        f"{bad_certificates['expired']},,,",
    ]
    path = tmp_path / "fleet.csv"
    path.write_text("address,site,cluster,esxi_host\n" + "\n".join(rows) + "\n")
    assert (await asyncio.to_thread(_cli, api, "onboard", "import", str(path)))[0] == 0
    await asyncio.to_thread(lab.control, LC_STUCK, "faults", {"lc_stuck_not_ready": True})
    await asyncio.to_thread(lab.control, UNLINKED, "license", {"level": "Express"})

    code, out, err = await asyncio.to_thread(_cli, api, "onboard", "validate")
    assert code == 0, err
    assert out.startswith("7 validated: 1 passed, 6 failed")

    code, out, _ = await asyncio.to_thread(_cli, api, "onboard", "report", "--json")
    report = {row["address"]: row for row in json.loads(out)}
    checks = {address: {c["check"]: c for c in row["checks"]} for address, row in report.items()}
    assert report[addresses[PASSES]]["status"] == "passed"
    assert all(c["ok"] for c in checks[addresses[PASSES]].values())
    assert checks[addresses[PASSES]]["idrac"]["detail"].startswith("iDRAC9 ")
    assert checks[addresses[PASSES]]["esxi_host"]["detail"] == "esx-a.lab.test in cluster ams-prod"

    def failed(address: str) -> set[str]:
        return {name for name, c in checks[address].items() if not c["ok"]}

    assert failed(addresses[LC_STUCK]) == {"lifecycle_controller"}
    assert failed(addresses[UNLINKED]) == {"esxi_host"}  # its Express license only warns
    license_of = {address: c["license"] for address, c in checks.items()}
    assert license_of[addresses[PASSES]] == {
        "check": "license", "ok": True, "state": "pass", "detail": "iDRAC Enterprise"
    }  # fmt: skip
    express = license_of[addresses[UNLINKED]]
    assert (express["state"], express["ok"]) == ("warn", True)
    assert express["detail"].startswith("iDRAC Express: updates from a repository")
    assert license_of[addresses[LOCKED_TAG]]["state"] == "unknown"
    assert "credentials" in failed(addresses[LOCKED_TAG])
    assert checks[addresses[LOCKED_TAG]]["credentials"]["detail"] == "the iDRAC rejected the login"
    assert "reachable" in failed(lab.silent)
    self_signed = checks[bad_certificates["self-signed"]]
    assert self_signed["tls"]["detail"].startswith("self-signed certificate")
    assert self_signed["credentials"]["detail"] == "certificate self-signed: credentials not sent"
    assert checks[bad_certificates["expired"]]["tls"]["detail"].startswith("certificate expired")
    assert "lifecycle_controller: not ready" in report[addresses[LC_STUCK]]["reason"]

    code, table, _ = await asyncio.to_thread(_cli, api, "onboard", "report")
    lines = {line.split()[0]: line.split() for line in table.splitlines()}
    assert lines[addresses[PASSES]][1:4] == [PASSES, "passed", "ok"]
    assert "warn" in lines[addresses[UNLINKED]]
    assert f"{addresses[UNLINKED]}: warning: license: iDRAC Express: updates" in table
    assert lines[lab.silent][1:4] == ["failed", "FAIL", "FAIL"]  # no tag, unreachable, no TLS
    assert f"{lab.silent}: reachable: no Redfish service answered" in table
    code, text, _ = await asyncio.to_thread(_cli, api, "onboard", "report", "--csv")
    by_address = {r["address"]: r for r in csv.DictReader(io.StringIO(text))}
    assert by_address[addresses[UNLINKED]]["esxi_host"].startswith("FAIL: no ESXi host")
    assert by_address[addresses[PASSES]]["firmware_inventory"] == "ok"
    assert by_address[addresses[PASSES]]["license"] == "ok"
    assert by_address[addresses[UNLINKED]]["license"].startswith("WARN: iDRAC Express: updates")

    # The server is in the inventory now, with what a campaign plan needs.
    with api.client() as client:
        server = client.get("/servers", params={"service_tag": PASSES}).json()["items"][0]
    assert server["esxi_host"] == "esx-a.lab.test" and server["cluster_id"] is not None
    assert {item["component_id"] for item in server["firmware_inventory"]} >= {"159", "25227"}
    assert server["idrac_address"] == addresses[PASSES] and server["model"] == "PowerEdge R750"

    # Failed servers stay out of campaigns, with the reason; fixed and revalidated, in.
    with Session(worker.engine) as session:
        package = FirmwarePackage(
            name="BIOS", component_id="159", version="9.9.9", sha256="ab" * 32, file_name="b.exe"
        )
        session.add(package)
        session.commit()
        package_id = package.id or 0
    planned, unresolved = await asyncio.to_thread(_plan, worker, package_id)
    assert planned == [PASSES]
    assert any(
        line.startswith(f"service tag {LC_STUCK}: held out until onboarding validation passes")
        and "lifecycle_controller: not ready" in line
        for line in unresolved
    )
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "name: gate\nspec:\n  targets: {clusters: [ams-prod]}\n"
        f"  firmware: [{{component_id: '159', version: 9.9.9, package_id: {package_id}}}]\n"
    )
    code, out, err = await asyncio.to_thread(_cli, api, "campaign", "plan", str(campaign), "--json")
    assert code == 0, err
    dry_run = json.loads(out)
    assert [h["service_tag"] for c in dry_run["plan"]["clusters"] for h in c["hosts"]] == [PASSES]
    assert any(
        line.startswith(f"service tag {LC_STUCK}: held out") for line in dry_run["unresolved"]
    )

    await asyncio.to_thread(lab.control, LC_STUCK, "faults", {"lc_stuck_not_ready": False})
    with api.client() as client:
        ids = [
            e["id"]
            for e in client.get("/enrollments").json()["items"]
            if e["address"] == addresses[LC_STUCK]
        ]
    code, out, _ = await asyncio.to_thread(_cli, api, "onboard", "validate", "--id", str(ids[0]))
    assert out.startswith("1 validated: 1 passed, 0 failed")
    planned, _ = await asyncio.to_thread(_plan, worker, package_id)
    assert sorted(planned) == sorted([PASSES, LC_STUCK])
