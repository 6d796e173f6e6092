"""Compliance and remediation in a real browser: a baseline's cluster x component grid after
an evaluation started from the console, a host's standing per component, the remediation
dry run (packages, order, reboots) before its campaign is created, and a viewer refused."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from simulators.idrac.catalog import Package, catalog_bytes
from simulators.idrac.components import COMPONENTS
from tests.e2e.console.conftest import BREAKGLASS_PASSWORD, Console
from tests.e2e.console.test_console import (
    CAMPAIGN_TIMEOUT_MS,
    audit,
    fits_the_window,
    log_in,
    sweep,
)
from tests.integration.api.conftest import PASSWORDS
from tests.integration.campaign.lab import BIOS_TARGET, Lab

NIC = COMPONENTS["nic"]


@pytest.fixture(scope="module")
def namespace() -> str:
    """Its own: this module starts a campaign whose id another module's already used."""
    return "console-e2e-compliance"


def make_baseline(console: Console, lab: Lab) -> dict[str, Any]:
    """A catalog wanting the lab's BIOS package (newer than the hosts run) and the NIC
    version they already run, and a baseline over both clusters (as an admin, by API).
    The hosts' SystemIDs are registered as an admin does (a sweep does not read them)."""
    hosts = [h for _, _, h in lab.fleet.hosts()]
    systems = {(f"{h.system_id:04X}", h.model.removeprefix("PowerEdge ")) for h in hosts}
    packages = [
        Package("159", BIOS_TARGET, tuple(systems), component_type="BIOS", name="BIOS"),
        Package(NIC.component_id, NIC.default_version, tuple(systems), name=NIC.name),
    ]
    with console.api(console.token("breakglass", BREAKGLASS_PASSWORD)) as api:
        catalog = api.post("/catalogs", content=catalog_bytes(packages))
        assert catalog.status_code == 201, catalog.text
        for host in hosts:
            system_id = {"system_id": f"0x{host.system_id:04X}"}
            patched = api.patch(f"/servers/{lab.server_ids[host.service_tag]}", json=system_id)
            assert patched.status_code == 200, patched.text
        body = {
            "name": f"lab-{uuid.uuid4().hex[:6]}",
            "catalog_id": catalog.json()["id"],
            "scope": {"clusters": ["alpha", "bravo"]},
        }
        created = api.post("/baselines", json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def grid_cell(page: Page, cluster: str, column: int) -> Any:
    """The grid's cell of a cluster's row (column 1: its hosts; then one per component)."""
    row = page.locator("#compliance-grid tbody tr", has=page.locator(f"th:text-is('{cluster}')"))
    return row.locator("td").nth(column - 1)


async def test_evaluate_see_the_grid_and_the_host_then_plan_and_create_a_remediation(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    await sweep(console)  # firmware inventory and SystemIDs, read from the iDRACs
    baseline = make_baseline(console, lab)

    await log_in(page, console, "alice", PASSWORDS["alice"], "/ui/fleet")
    row = page.locator("#baselines tbody tr", has_text=baseline["name"])
    await expect(row).to_contain_text("not evaluated yet")
    await row.get_by_role("link", name=baseline["name"]).click()
    await expect(page.locator("h1")).to_have_text(f"Baseline {baseline['name']}")
    await expect(page.locator("#evaluation")).to_contain_text("Not evaluated yet")

    # Evaluate by keyboard: the grid appears, one row per cluster, one column per component.
    await page.locator("#evaluate").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#evaluation")).to_contain_text("0.0% compliant")
    await expect(page.locator("#evaluation")).to_contain_text("7 of 7 hosts off the baseline")
    headers = page.locator("#compliance-grid thead th")
    # Every component the hosts run; those the catalog has no package for are n/a.
    others = sorted(c.name for key, c in COMPONENTS.items() if key not in ("bios", "nic"))
    await expect(headers).to_have_text(["Cluster", "Hosts", "BIOS", NIC.name, *others])
    await expect(page.locator("#compliance-grid tbody th")).to_have_text(["alpha", "bravo"])
    # Each count says its state in words (and a symbol), not by colour alone.
    await expect(grid_cell(page, "alpha", 1)).to_have_text("↑ 4 upgrade")
    await expect(grid_cell(page, "alpha", 2)).to_have_text("↑ 4 upgrade")
    await expect(grid_cell(page, "alpha", 3)).to_have_text("✓ 4 compliant")
    await expect(grid_cell(page, "bravo", 2)).to_have_text("↑ 3 upgrade")
    await expect(grid_cell(page, "bravo", 3)).to_have_text("✓ 3 compliant")
    await expect(grid_cell(page, "bravo", 4)).to_have_text("∅ 3 n/a")
    await expect(page.locator("#compliance-legend")).to_contain_text("n/a")
    await fits_the_window(page)
    await page.screenshot(path=screenshots / "baseline.png", full_page=True)
    [evaluated] = [e for e in audit(console, "console_evaluate_baseline") if e["actor"] == "alice"]
    assert evaluated["outcome"] == "success"

    # The fleet page's summary follows; a host's page shows its standing per component.
    await page.goto(console.url + "/ui/fleet")
    await expect(row).to_contain_text("0.0%")
    await expect(row).to_contain_text("7 of 7")
    await page.goto(console.url + f"/ui/baselines/{baseline['id']}")
    await page.locator("#off-hosts a", has_text="esx-bravo-2.lab.test").click()
    await expect(page.locator("h1")).to_contain_text("Host BLAB002")
    standing = page.locator("section.standing")
    await expect(standing.locator("h3")).to_contain_text(f"{baseline['name']}: ↑ upgrade")
    bios = standing.locator("tbody tr", has_text="BIOS")
    await expect(bios).to_contain_text("1.10.2")
    await expect(bios).to_contain_text(BIOS_TARGET)
    await expect(bios).to_contain_text("upgrade")
    await expect(standing.locator("tbody tr", has_text=NIC.name)).to_contain_text("compliant")
    await fits_the_window(page)

    # The dry run before the button: per host the package, its order and the reboots.
    await page.goto(console.url + f"/ui/baselines/{baseline['id']}")
    await page.click("#plan")
    await expect(page).to_have_url(re.compile(rf"/ui/baselines/{baseline['id']}/plan"))
    hosts = page.locator("table.plan-hosts tbody tr")
    await expect(hosts).to_have_count(7)
    for text in await hosts.all_inner_texts():
        assert f"BIOS: 1.10.2 → {BIOS_TARGET}" in text
        assert "staged, applied together at one host reboot (BIOS first): 159" in text
    await expect(page.locator("table.plan-hosts td.reboots")).to_have_text(["1"] * 7)
    await expect(page.locator("table.packages")).to_contain_text("in the repository")
    create = page.locator("#create")
    await expect(create).to_have_text("Create 1 campaign")
    await expect(create).to_be_enabled()
    await fits_the_window(page)
    await page.screenshot(path=screenshots / "remediation.png", full_page=True)

    await create.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/ui/campaigns/\d+$"))
    await expect(page.locator("h1")).to_contain_text(f"remediate {baseline['name']} [0A6B]")
    await expect(page.locator("#campaign-status")).to_contain_text("created")
    await expect(page.locator("#start")).to_be_visible()
    [made] = [e for e in audit(console, "console_remediate_baseline") if e["actor"] == "alice"]
    assert made["outcome"] == "success"


async def test_the_dry_run_form_sets_the_policy_and_windows_the_campaign_gets(
    page: Page, console: Console, lab: Lab
) -> None:
    baseline = make_baseline(console, lab)
    window = {"kind": "weekly", "timezone": "UTC", "weekdays": [5, 6], "start": "22:00"}
    name = f"weekend-{uuid.uuid4().hex[:6]}"
    with console.api(console.token("breakglass", BREAKGLASS_PASSWORD)) as api:
        body = {"name": name, "window": {**window, "duration_minutes": 360}}
        stored = api.post("/windows", json=body)
        assert stored.status_code == 201, stored.text
        start = stored.json()["window"]["start"]  # as the API writes a clock time
    await log_in(page, console, "alice", PASSWORDS["alice"], f"/ui/baselines/{baseline['id']}/plan")
    await expect(page.locator("#plan-policy")).to_contain_text(
        "1 host at once per cluster, at least 2 online, on failure hold; windows: none"
    )

    # A mistake is refused by the API's own model, naming the field; what was typed stays.
    await page.fill("#max_concurrent_per_cluster", "0")
    await page.click("#plan-form button[type=submit]")
    errors = page.locator("#form-errors")
    await expect(errors).to_contain_text(
        "max_concurrent_per_cluster: Input should be greater than or equal to 1"
    )
    await expect(page.locator("#max_concurrent_per_cluster")).to_have_value("0")
    await expect(page.locator("#create")).to_have_count(0)

    await page.fill("#max_concurrent_per_cluster", "2")
    await page.fill("#min_hosts_online", "1")
    await page.select_option("#on_failure", "rollback")
    await page.select_option("#window_ids", label=name)
    await page.click("#plan-form button[type=submit]")
    await expect(errors).to_have_count(0)
    await expect(page.locator("#plan-policy")).to_have_text(
        f"Policy: 2 hosts at once per cluster, at least 1 online, on failure rollback; "
        f"windows: {name}."
    )
    await page.click("#create")
    await expect(page).to_have_url(re.compile(r"/ui/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    with console.api(console.token("alice", PASSWORDS["alice"])) as api:
        spec = api.get(f"/campaigns/{campaign_id}").json()["spec"]
    policy = spec["policy"]
    assert (policy["max_concurrent_per_cluster"], policy["min_hosts_online"]) == (2, 1)
    assert policy["on_failure"] == "rollback"
    assert [(w["weekdays"], w["start"], w["duration_minutes"]) for w in spec["windows"]] == [
        ([5, 6], start, 360)
    ]


async def test_a_viewer_sees_the_grid_and_the_dry_run_but_may_not_act(
    page: Page, console: Console, lab: Lab
) -> None:
    baseline = make_baseline(console, lab)
    path = f"/ui/baselines/{baseline['id']}/plan"
    await log_in(page, console, "bob", PASSWORDS["bob"], path)
    await expect(page.locator("table.plan-hosts tbody tr")).to_have_count(7)
    await expect(page.locator("#create")).to_be_disabled()
    await expect(page.locator("#role-note")).to_contain_text("(viewer) may plan")
    await page.goto(console.url + f"/ui/baselines/{baseline['id']}")
    await expect(page.locator("#evaluate")).to_be_disabled()
    # A forged form is refused by the server too, with nothing created.
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    refused = await page.request.post(
        console.url + f"/ui/baselines/{baseline['id']}/remediation", form={"csrf": csrf or ""}
    )
    assert refused.status == 403
    assert "operator" in await refused.text()


async def test_the_timeline_shades_the_window_in_the_sites_local_time(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    # A daily window in the site's time (dc-lab: Amsterdam), open from the hour before now.
    zone = ZoneInfo("Europe/Amsterdam")
    opens = (datetime.now(zone) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    closes = opens + timedelta(hours=3)
    window = {
        "kind": "weekly",
        "timezone": "site",
        "weekdays": list(range(7)),
        "start": f"{opens:%H:%M}",
        "duration_minutes": 180,
    }
    spec = {
        "targets": {"clusters": ["bravo"]},
        "firmware": [
            {"component_id": "159", "version": "2.13.0", "package_id": lab.bios_packages["2.13.0"]}
        ],
        "windows": [window],
        "policy": {"max_concurrent_per_cluster": 1, "min_hosts_online": 1},
    }
    with console.api(console.token("alice", PASSWORDS["alice"])) as api:
        created = api.post("/campaigns", json={"name": "BIOS in the window", "spec": spec})
        assert created.status_code == 201, created.text
        campaign_id = created.json()["id"]
        assert api.post(f"/campaigns/{campaign_id}/start").status_code == 202

        await log_in(page, console, "alice", PASSWORDS["alice"], f"/ui/campaigns/{campaign_id}")
        label = (
            f"window {opens:%Y-%m-%d %H:%M} Europe/Amsterdam to "
            f"{closes:%Y-%m-%d %H:%M} Europe/Amsterdam"
        )
        shade = page.locator("#timeline .row[data-host=BLAB001] .window")
        await expect(shade).to_have_attribute("title", label, timeout=60_000)
        await expect(page.locator("#clusters li[data-cluster=bravo]")).to_contain_text(label)
        await fits_the_window(page)
        await page.screenshot(path=screenshots / "campaign-window.png", full_page=True)

        # Done with it: abort once it runs, and let it end before the lab stops.
        await expect(page.locator("#campaign-status")).to_have_text("running", timeout=60_000)
        # Not the blocking client: the worker answering the abort runs on this event loop.
        headers = dict(api.headers)
        async with httpx.AsyncClient(base_url=console.url, headers=headers) as client:
            reason = {"reason": "window shown"}
            aborted = await client.post(f"/campaigns/{campaign_id}/abort", json=reason)
        assert aborted.status_code == 202, aborted.text
        await expect(page.locator("#campaign-status")).to_have_text(
            re.compile(r"^aborted"), timeout=CAMPAIGN_TIMEOUT_MS
        )
