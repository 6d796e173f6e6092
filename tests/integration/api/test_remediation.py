"""Remediation of a baseline through the real API (uvicorn, PostgreSQL, LDAP logins): the
dry run's campaigns and per-host packages in install order, planned by the campaign
planner for duration, reboots and window fit; creating the campaigns once every package
is in the repository; bad selections are a 422 naming the field."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cli.baseline import dry_run
from cli.campaign import Api as CliApi
from simulators.idrac.catalog import Package
from tests.integration.api.baseline_lab import R650, Lab, created, inventory, unique
from tests.integration.api.conftest import Api

SATURDAY_NIGHT = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)  # a Saturday, before the window


@pytest.fixture
def versions() -> dict[str, str]:
    """Versions no other test's packages use (packages are unique per component/version)."""
    n = random.randrange(100, 10_000)
    return {"159": f"2.99.{n}", "25227": f"7.99.{n}.00"}


@pytest.fixture
def lab(admin: httpx.Client, versions: dict[str, str]) -> Lab:
    lab = Lab(
        admin,
        [
            Package("159", versions["159"], R650, component_type="BIOS", name="BIOS"),
            Package("25227", versions["25227"], R650, reboot_required=False, name="iDRAC"),
        ],
    )
    lab.host("both", 0, inventory("2.10.0", idrac="7.00.00.00"))
    lab.host("bios", 0, inventory("2.10.0", idrac=versions["25227"]))
    lab.host("ahead", 1, inventory("3.0.0", idrac=versions["25227"]))
    lab.host("current", 1, inventory(versions["159"], idrac=versions["25227"]))
    return lab


def _upload_packages(admin: httpx.Client, versions: dict[str, str]) -> dict[str, int]:
    ids = {}
    for component_id, version in versions.items():
        body = {
            "name": unique("dup"),
            "component_id": component_id,
            "version": version,
            "sha256": hashlib.sha256(version.encode()).hexdigest(),
        }
        ids[component_id] = created(admin.post("/packages", json=body))["id"]
    return ids


def _window(admin: httpx.Client, minutes: int) -> int:
    window = {
        "kind": "weekly",
        "timezone": "UTC",
        "weekdays": [5],
        "start": "22:00",
        "duration_minutes": minutes,
    }
    return created(admin.post("/windows", json={"name": unique("w"), "window": window}))["id"]


def test_the_dry_run_lists_campaigns_hosts_packages_in_order(
    admin: httpx.Client, lab: Lab, versions: dict[str, str]
) -> None:
    baseline = lab.baseline()
    response = admin.post(f"/baselines/{baseline['id']}/remediation/plan", json={})
    assert response.status_code == 200, response.text
    plan = response.json()
    [campaign] = plan["campaigns"]
    assert campaign["system_id"] == "0912"
    tags = {lab.hosts[n]["service_tag"] for n in ("both", "bios")}
    assert set(campaign["service_tags"]) == tags
    both = next(
        h for h in campaign["hosts"] if h["service_tag"] == lab.hosts["both"]["service_tag"]
    )
    # iDRAC first, alone; then the BIOS at the host reboot (domain/install_order.py).
    assert [s["components"] for s in both["steps"]] == [["25227"], ["159"]]
    assert [c["component_id"] for c in both["changes"]] == ["25227", "159"]
    assert {(f["component_id"], f["version"], f["package_id"]) for f in campaign["firmware"]} == {
        ("159", versions["159"], None),
        ("25227", versions["25227"], None),
    }
    assert len(campaign["missing_packages"]) == 2
    skipped = {s["service_tag"]: s["reason"] for s in plan["skipped"]}
    assert skipped[lab.hosts["ahead"]["service_tag"]].startswith("only downgrades")
    assert skipped[lab.hosts["current"]["service_tag"]].startswith("compliant")
    assert admin.get("/campaigns", params={"name": campaign["name"]}).json()["total"] == 0


def test_the_dry_run_plans_durations_reboots_and_window_fit(
    api: Api, tokens: dict[str, str], admin: httpx.Client, lab: Lab
) -> None:
    baseline = lab.baseline()
    cli = CliApi(api.url, tokens["viewer"])
    try:
        long_window = dry_run(
            cli, baseline["id"], {"window_ids": [_window(admin, 240)]}, SATURDAY_NIGHT
        )
        short_window = dry_run(
            cli, baseline["id"], {"window_ids": [_window(admin, 20)]}, SATURDAY_NIGHT
        )
    finally:
        cli.http.close()
    rows = {h.name: h for h in long_window["campaigns"][0]["hosts"]}
    both, bios = rows[lab.hosts["both"]["esxi_host"]], rows[lab.hosts["bios"]["esxi_host"]]
    assert both.fits and bios.fits
    assert both.host_reboot and both.idrac_reset
    assert bios.host_reboot and not bios.idrac_reset
    assert both.duration is not None and bios.duration is not None
    assert both.duration > bios.duration  # the iDRAC update and its reset add time
    assert both.start is not None and both.start >= datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    short = short_window["campaigns"][0]["hosts"]
    assert [h.fits for h in short] == [False, False]
    assert all("window" in h.note for h in short)


def test_remediation_creates_a_campaign_once_the_packages_are_there(
    admin: httpx.Client, tokens: dict[str, str], api: Api, lab: Lab, versions: dict[str, str]
) -> None:
    baseline = lab.baseline()
    url = f"/baselines/{baseline['id']}/remediation"
    with api.client(tokens["operator"]) as operator:
        missing = operator.post(url, json={})
        assert missing.status_code == 422, missing.text
        [error] = missing.json()["detail"]
        assert error["loc"] == ["body", "packages"] and versions["159"] in error["msg"]
        packages = _upload_packages(admin, versions)
        selected = {"hosts": [lab.hosts["bios"]["service_tag"]], "name": unique("fix")}
        response = operator.post(url, json=selected)
    assert response.status_code == 201, response.text
    [campaign] = response.json()["campaigns"]
    assert campaign["status"] == "created" and campaign["created_by"] == "alice"
    spec = campaign["spec"]
    assert spec["targets"]["service_tags"] == [lab.hosts["bios"]["service_tag"]]
    assert spec["firmware"] == [
        {"component_id": "159", "version": versions["159"], "package_id": packages["159"]}
    ]
    assert admin.get(f"/campaigns/{campaign['id']}").json()["name"] == campaign["name"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hosts": ["nowhere.example.test"]}, "hosts"),
        ({"hosts": ["a", "a"]}, "hosts"),
        ({"window_ids": [0]}, "window_ids"),
        ({"policy": {"max_concurrent_per_cluster": 0}}, "policy"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_remediation_requests_are_a_422_naming_the_field(
    admin: httpx.Client, lab: Lab, body: dict[str, Any], field: str
) -> None:
    baseline = lab.baseline()
    response = admin.post(f"/baselines/{baseline['id']}/remediation/plan", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_a_compliant_selection_has_nothing_to_remediate(admin: httpx.Client, lab: Lab) -> None:
    baseline = lab.baseline()
    body = {"hosts": [lab.hosts["current"]["esxi_host"]]}
    response = admin.post(f"/baselines/{baseline['id']}/remediation", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "hosts"] and "compliant" in error["msg"]
