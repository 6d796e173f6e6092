"""The operator console in a real browser: log in, browse the fleet, watch a campaign run
on its live timeline, pause, resume and abort it, and see a viewer refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.e2e.console.conftest import NAMESPACE, TEMPORAL_UI, Console
from tests.integration.api.conftest import PASSWORDS, serve
from tests.integration.campaign.lab import Lab

POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 2,
    "global_max_concurrent": 2,
    "cluster_failure_threshold": 1,
    "campaign_failure_threshold": 2,
    "on_failure": "rollback",
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}
CAMPAIGN_TIMEOUT_MS = 240_000
MOMENT = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d UTC"  # the date only when not today


async def log_in(page: Page, console: Console, user: str, password: str, path: str) -> None:
    """Log in with the keyboard alone, from the page the login redirected from."""
    await page.goto(console.url + path)
    await expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    await expect(page.locator("#username")).to_be_focused()  # autofocus
    await page.keyboard.type(user)
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(console.url + path)


async def fits_the_window(page: Page) -> None:
    """Usable at 1280x800: nothing is cut off sideways."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"{page.url} is {width}px wide"


def start_campaign(
    console: Console, lab: Lab, clusters: list[str], version: str, start: bool = True
) -> int:
    token = console.token("alice", PASSWORDS["alice"])
    spec = {
        "targets": {"clusters": clusters},
        "firmware": [
            {"component_id": "159", "version": version, "package_id": lab.bios_packages[version]}
        ],
        "policy": POLICY,
    }
    with console.api(token) as api:
        created = api.post("/campaigns", json={"name": f"BIOS {version}", "spec": spec})
        assert created.status_code == 201, created.text
        campaign_id = int(created.json()["id"])
        if start:
            started = api.post(f"/campaigns/{campaign_id}/start")
            assert started.status_code == 202, started.text
    return campaign_id


def audit(console: Console, action: str) -> list[dict[str, Any]]:
    token = console.token("breakglass", "bg-Console-Pass-4411")
    with console.api(token) as api:
        response = api.get("/audit", params={"action": action})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def sweep(console: Console) -> None:
    """An inventory sweep through the API, run by the worker against the iDRACs."""
    async with httpx.AsyncClient(base_url=console.url, timeout=30) as api:
        login = {"username": "alice", "password": PASSWORDS["alice"]}
        token = (await api.post("/auth/login", json=login)).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        started = await api.post("/inventory-sweeps")
        assert started.status_code == 202, started.text
        url = f"/inventory-sweeps/{started.json()['id']}"
        for _ in range(240):
            if (await api.get(url)).json()["status"] != "running":
                break
            await asyncio.sleep(0.5)
        assert (await api.get(url)).json()["status"] == "completed"


async def test_login_fleet_filters_and_host_page(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    # Two sweeps, a fan failing on BLAB003 in between: firmware, health and its history.
    await sweep(console)
    lab.set_faults("BLAB003", fan_failed=True)
    await sweep(console)
    lab.set_faults("BLAB003", fan_failed=False)  # the campaigns below need it healthy

    await page.goto(console.url + "/ui/login")
    await page.screenshot(path=screenshots / "login.png")
    # A wrong password: a clear message, no session.
    await page.fill("#username", "alice")
    await page.fill("#password", "not-her-password")
    await page.press("#password", "Enter")
    await expect(page.locator("#login-error")).to_contain_text("Wrong user name or password")

    await log_in(page, console, "alice", PASSWORDS["alice"], "/ui/fleet")
    await expect(page.locator("header")).to_contain_text("alice (operator)")
    hosts = page.locator("#hosts tbody tr")
    await expect(hosts).to_have_count(len(lab.fleet.hosts()))
    await expect(page.locator("#clusters")).to_contain_text("alpha")
    await expect(page.locator("#clusters")).to_contain_text("dc-lab")
    await fits_the_window(page)
    await page.screenshot(path=screenshots / "fleet.png", full_page=True)

    # Filters narrow the hosts to one cluster, by keyboard-operable native controls.
    await page.select_option("select[name=cluster_id]", label="bravo")
    await page.click("form.filters button[type=submit]")
    await expect(hosts).to_have_count(3)
    for text in await hosts.all_inner_texts():
        assert "bravo" in text

    await page.select_option("select[name=health]", "Critical")
    await page.click("form.filters button[type=submit]")
    await expect(hosts).to_have_count(1)
    await expect(hosts).to_contain_text("BLAB003")

    await page.click("#hosts tbody tr:first-child a")
    await expect(page.locator("h1")).to_contain_text("Host BLAB003")
    await expect(page.locator("h1")).to_contain_text("Critical")
    await expect(page.locator("dl.identity")).to_contain_text("esx-bravo-3.lab.test")
    await expect(page.locator("#firmware")).to_contain_text("BIOS")
    await expect(page.locator("#health-history tbody tr")).to_have_count(1)
    await expect(page.locator("#health-history")).to_contain_text("OK")
    await expect(page.locator("#health-history")).to_contain_text("Critical")
    await fits_the_window(page)
    await page.screenshot(path=screenshots / "host.png", full_page=True)


async def test_watch_pause_and_resume_a_campaign_live(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    await log_in(page, console, "alice", PASSWORDS["alice"], "/ui/campaigns")
    campaign_id = start_campaign(console, lab, ["alpha"], "2.12.0")
    await page.reload()
    await page.click(f"#campaigns a[href='/ui/campaigns/{campaign_id}']")
    await expect(page).to_have_url(f"{console.url}/ui/campaigns/{campaign_id}")
    await page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    # Steps appear as bars while the first host runs, without a reload.
    bars = page.locator("#timeline .bar")
    await expect(page.locator("#timeline .bar[data-step=enter_maintenance]")).to_have_count(
        1, timeout=60_000
    )
    await expect(page.locator("#timeline .bar[data-step=stage_firmware]").first).to_be_visible(
        timeout=60_000
    )
    rows = page.locator("#timeline .row[data-host]")
    await expect(rows).to_have_count(4)
    # Capacity in use vs allowed (the policy: one host at a time, two stay online).
    await expect(page.locator("#clusters li[data-cluster=alpha]")).to_contain_text(
        re.compile(r"capacity: [01] of 1 updating at once, at least 2 hosts stay online")
    )
    link = page.locator("#timeline .row[data-host=ALAB001] a.temporal")
    await expect(link).to_have_attribute(
        "href",
        f"{TEMPORAL_UI}/namespaces/{NAMESPACE}/workflows/campaign-{campaign_id}-host-ALAB001",
    )
    # While it runs: what its plan promised and what is left predicts; each host's end.
    ends = page.locator("#campaign-ends")
    await expect(ends).to_contain_text(re.compile(rf"Planned end {MOMENT}"))
    await expect(ends).to_contain_text(re.compile(rf"predicted end {MOMENT}"))
    await expect(page.locator("#timeline .row[data-host=ALAB004] .ends")).to_contain_text(
        re.compile(rf"predicted end {MOMENT}")
    )
    await fits_the_window(page)
    await page.screenshot(path=screenshots / "campaign-running.png", full_page=True)

    # Pause, by keyboard: no new host starts and the cluster says why it waits.
    await page.focus("#pause")
    await page.keyboard.press("Enter")
    await expect(page.locator("#campaign-status")).to_have_text("paused")
    await expect(page.locator("#clusters")).to_contain_text(
        "waits: paused by an operator", timeout=60_000
    )
    await page.screenshot(path=screenshots / "campaign-paused.png", full_page=True)
    await page.evaluate("window.loadedOnce = true")
    await page.click("#resume")
    await expect(page.locator("#campaign-status")).to_have_text("running")
    await page.evaluate("window.loadedOnce = true")

    # Live to the end: every host updated, the campaign completed, still the same page.
    await expect(page.locator("#campaign-status")).to_have_text(
        "completed", timeout=CAMPAIGN_TIMEOUT_MS
    )
    await expect(page.locator("#timeline .state.st-updated")).to_have_count(4)
    assert await page.evaluate("window.loadedOnce === true")
    assert await bars.count() > 4  # more than one step per host was seen
    for button in ("#pause", "#resume", "#abort"):
        await expect(page.locator(button)).to_be_disabled()
    # Ended: the actual end next to the predicted one, for the campaign and each host.
    await expect(ends).to_contain_text(
        re.compile(rf"actual end {MOMENT}, (on time|\d+ min (later|earlier) than planned)")
    )
    await expect(ends).not_to_contain_text("predicted end")  # nothing left to predict
    for tag in ("ALAB001", "ALAB002", "ALAB003", "ALAB004"):
        await expect(page.locator(f"#timeline .row[data-host={tag}] .ends")).to_have_text(
            re.compile(rf"^ended {MOMENT} \(predicted {MOMENT}\)$")
        )
    await page.screenshot(path=screenshots / "campaign-completed.png", full_page=True)

    # The host's page now lists the campaign and the audited actions on the host.
    await page.goto(f"{console.url}/ui/fleet?service_tag=alab001")
    await page.click("#hosts a:text('ALAB001')")
    await expect(page.locator("#host-campaigns")).to_contain_text("BIOS 2.12.0")
    await expect(page.locator("#host-campaigns")).to_contain_text("updated")
    await expect(page.locator("#host-audit")).to_contain_text("success")
    await expect(page.locator("#firmware-source")).to_contain_text("last inventory sweep")

    actors = {(e["actor"], e["outcome"]) for e in audit(console, "console_pause_campaign")}
    assert ("alice", "success") in actors
    assert ("alice", "success") in {
        (e["actor"], e["outcome"]) for e in audit(console, "console_resume_campaign")
    }


RUNBOOK = (
    "preflight",
    "enter_maintenance",
    "stage_firmware",
    "reboot",
    "verify",
    "exit_maintenance",
)


async def test_step_bars_come_from_history_in_a_fresh_api_process(
    page: Page, console: Console, lab: Lab
) -> None:
    """A campaign nobody watched, opened in an API app started after it ended: every host
    still shows each runbook step as a bar (the queued preflight from its cluster's rollout),
    not one bar for its whole run."""
    campaign_id = start_campaign(console, lab, ["bravo"], "2.12.0")
    token = console.token("alice", PASSWORDS["alice"])
    with console.api(token) as api:
        for _ in range(CAMPAIGN_TIMEOUT_MS // 1000):
            status = api.get(f"/campaigns/{campaign_id}").json()["status"]
            if status not in ("created", "planning", "running"):
                break
            await asyncio.sleep(1)
    assert status == "completed", status
    with serve(console.settings) as fresh_url:
        fresh = Console(fresh_url, console.settings)
        await log_in(page, fresh, "alice", PASSWORDS["alice"], f"/ui/campaigns/{campaign_id}")
        await expect(page.locator("#campaign-status")).to_have_text("completed")
        for tag in ("BLAB001", "BLAB002", "BLAB003"):
            row = page.locator(f"#timeline .row[data-host={tag}]")
            for step in RUNBOOK:
                await expect(row.locator(f".bar[data-step={step}]")).to_have_count(1)
            # Steps run at once share the row: staging beside entering maintenance.
            stage = row.locator(".bar[data-step=stage_firmware]")
            assert await stage.evaluate("bar => bar.style.height") == "9px"
            await expect(row.locator(".ends")).to_contain_text("predicted")
        await expect(page.locator("#campaign-ends")).to_contain_text("actual end")


async def test_abort_needs_a_reason_and_a_confirmation(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    campaign_id = start_campaign(console, lab, ["bravo"], "2.13.0", start=False)
    await log_in(page, console, "alice", PASSWORDS["alice"], f"/ui/campaigns/{campaign_id}")
    await expect(page.locator("#campaign-status")).to_have_text("created")
    await expect(page.locator("#abort")).to_be_disabled()
    await page.focus("#start")
    await page.keyboard.press("Enter")
    await expect(page.locator("#campaign-status")).to_have_text(re.compile("planning|running"))
    await expect(page.locator("#start")).to_be_hidden()

    # Keyboard: open the dialog, cancel it (nothing happens), open again, give a reason.
    await page.focus("#abort")
    await page.keyboard.press("Enter")
    dialog = page.locator("#abort-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#abort-reason-input")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#campaign-status")).not_to_have_text("aborting")

    await page.click("#abort")
    await page.keyboard.type("vendor recalled BIOS 2.13.0")
    await page.screenshot(path=screenshots / "campaign-abort.png")
    await page.keyboard.press("Tab")
    await expect(page.locator("#abort-confirm")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#abort-reason")).to_contain_text("vendor recalled BIOS 2.13.0")
    await expect(page.locator("#campaign-status")).to_have_text(
        re.compile(r"^aborted"), timeout=CAMPAIGN_TIMEOUT_MS
    )
    entries = audit(console, "console_abort_campaign")
    assert any(e["actor"] == "alice" and e["outcome"] == "success" for e in entries)


async def test_abort_without_reason_or_confirmation_is_refused_clearly(
    console: Console, lab: Lab
) -> None:
    """The server, not only the dialog, insists on both (a form posted without them)."""
    campaign_id = start_campaign(console, lab, ["bravo"], "2.11.2")
    cookies = {"idrac_orch_console": console.token("alice", PASSWORDS["alice"])}
    async with httpx.AsyncClient(base_url=console.url, cookies=cookies, timeout=30) as client:
        page = await client.get(f"/ui/campaigns/{campaign_id}")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert csrf
        url = f"/ui/campaigns/{campaign_id}/abort"
        unconfirmed = await client.post(url, data={"csrf": csrf[1], "reason": "no confirm"})
        assert unconfirmed.status_code == 422
        assert "confirm the abort" in unconfirmed.text
        no_reason = await client.post(url, data={"csrf": csrf[1], "reason": "  ", "confirm": "yes"})
        assert no_reason.status_code == 422
        assert "give a reason" in no_reason.text
        forged = await client.post(url, data={"csrf": "0" * 64, "reason": "x", "confirm": "yes"})
        assert forged.status_code == 403
        done = await client.post(
            url, data={"csrf": csrf[1], "reason": "clean up", "confirm": "yes"}
        )
        assert done.status_code == 303


async def test_a_viewer_watches_but_is_refused_every_action(
    page: Page, console: Console, lab: Lab, screenshots: Path
) -> None:
    with console.api(console.token("bob", PASSWORDS["bob"])) as api:
        campaign_id = api.get("/campaigns").json()["items"][-1]["id"]
    await log_in(page, console, "bob", PASSWORDS["bob"], f"/ui/campaigns/{campaign_id}")
    await expect(page.locator("header")).to_contain_text("bob (viewer)")
    await expect(page.locator("#role-note")).to_contain_text("require operator or higher")
    for button in ("#pause", "#resume", "#abort"):
        await expect(page.locator(button)).to_be_disabled()
    await page.screenshot(path=screenshots / "campaign-viewer.png", full_page=True)
    # Sent anyway (as a crafted form would be): the API's own role check refuses it.
    await page.evaluate("document.getElementById('pause-form').submit()")
    await expect(page.locator("#error-detail")).to_have_text("requires role operator or higher")
    await expect(page.locator("h1")).to_have_text("Not allowed")
    refused = audit(console, "console_pause_campaign")
    assert any(e["actor"] == "bob" and e["outcome"] == "denied" for e in refused)


def test_anonymous_visitors_are_sent_to_log_in(console: Console) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as client:
        for path in ("/ui/fleet", "/ui/campaigns", "/ui/hosts/1", "/ui/campaigns/1"):
            response = client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/ui/login?next=")
        assert client.get("/ui/campaigns/1/events").status_code == 401
        assert client.post("/ui/campaigns/1/pause").status_code == 401
        assert client.get("/ui/static/console.js").status_code == 200  # served, no CDN
