"""Baselines and compliance through the real API (uvicorn, PostgreSQL, LDAP logins): a
baseline over a cluster, each host's and component's state, fleet and cluster summaries,
CSV export, drift across evaluations and the kept history; bad input is a 422 naming
the field."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.integration.api.baseline_lab import Lab, created, inventory, unique


@pytest.fixture
def lab(admin: httpx.Client) -> Lab:
    lab = Lab(admin)
    lab.host("current", 0, inventory("2.13.0"))
    lab.host("behind", 0, inventory("2.10.0", idrac="7.00.00.00"))
    lab.host("ahead", 1, inventory("2.14.0"))
    lab.host("blank", 1, None)
    return lab


def _by_host(report: dict[str, Any], lab: Lab) -> dict[str, dict[str, Any]]:
    names = {h["esxi_host"]: key for key, h in lab.hosts.items()}
    return {names[h["name"]]: h for h in report["hosts"]}


def test_compliance_per_host_and_component_with_summaries(admin: httpx.Client, lab: Lab) -> None:
    baseline = lab.baseline()
    report = created(admin.post(f"/baselines/{baseline['id']}/compliance"))
    hosts = _by_host(report, lab)
    assert {name: h["state"] for name, h in hosts.items()} == {
        "current": "compliant",
        "behind": "upgrade",
        "ahead": "downgrade",
        "blank": "unknown",
    }
    behind = {c["component_id"]: c for c in hosts["behind"]["components"]}
    assert behind["159"]["state"] == "upgrade" and behind["159"]["target"] == "2.13.0"
    assert behind["159"]["reason"] == "2.10.0 -> 2.13.0"
    assert behind["25227"]["state"] == "upgrade"
    assert behind["9999"]["state"] == "not_applicable"
    assert "no firmware inventory" in hosts["blank"]["reason"]
    fleet = report["fleet"]
    assert fleet["hosts"] == 4
    assert fleet["host_states"] == {
        "compliant": 1,
        "upgrade": 1,
        "downgrade": 1,
        "not_applicable": 0,
        "unknown": 1,
    }
    assert fleet["compliant_pct"] == round(100 / 3, 1)
    per_cluster = {c["cluster"]: c["host_states"] for c in report["clusters"]}
    prod, test = (c["name"] for c in lab.clusters)
    assert per_cluster[prod]["compliant"] == 1 and per_cluster[prod]["upgrade"] == 1
    assert per_cluster[test]["downgrade"] == 1 and per_cluster[test]["unknown"] == 1
    assert report["run"]["evaluated_by"] == "carol" and report["run"]["off_baseline"] == 2


def test_filters_narrow_what_is_compared(admin: httpx.Client, lab: Lab) -> None:
    urgent = lab.baseline(filters={"criticality": [2], "exclusions": ["9999"]})
    report = created(admin.post(f"/baselines/{urgent['id']}/compliance"))
    behind = {c["component_id"]: c for c in _by_host(report, lab)["behind"]["components"]}
    assert behind["159"]["state"] == "not_applicable" and "filtered out" in behind["159"]["reason"]
    assert behind["25227"]["state"] == "upgrade"
    assert behind["9999"]["reason"] == "excluded by the baseline"


def test_reports_read_back_filtered_and_as_csv(admin: httpx.Client, lab: Lab) -> None:
    baseline = lab.baseline()
    created(admin.post(f"/baselines/{baseline['id']}/compliance"))
    url = f"/baselines/{baseline['id']}/compliance"
    upgrades = admin.get(url, params={"state": "upgrade"}).json()
    assert [h["name"] for h in upgrades["hosts"]] == [lab.hosts["behind"]["esxi_host"]]
    assert upgrades["fleet"]["hosts"] == 4  # the summary stays the whole baseline's
    response = admin.get(url, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    behind = [r for r in rows if r["host"] == lab.hosts["behind"]["esxi_host"]]
    assert {(r["component_id"], r["installed"], r["target"], r["state"]) for r in behind} == {
        ("159", "2.10.0", "2.13.0", "upgrade"),
        ("25227", "7.00.00.00", "7.10.30.00", "upgrade"),
        ("9999", "1.0", "", "not_applicable"),
    }
    blank = [r for r in rows if r["host"] == lab.hosts["blank"]["esxi_host"]]
    assert [r["state"] for r in blank] == ["unknown"]


def test_drift_says_since_when_and_what_changed_and_history_is_kept(
    admin: httpx.Client, lab: Lab
) -> None:
    baseline = lab.baseline()
    url = f"/baselines/{baseline['id']}"
    created(admin.post(f"{url}/compliance"))
    current = lab.hosts["current"]
    response = admin.patch(
        f"/servers/{current['id']}", json={"firmware_inventory": inventory("2.12.0")}
    )
    assert response.status_code == 200, response.text
    second = created(admin.post(f"{url}/compliance"))
    created(admin.post(f"{url}/compliance"))
    drift = admin.get(f"{url}/drift").json()
    drifted = {h["name"]: h for h in drift["hosts"]}
    moved = drifted[current["esxi_host"]]
    assert moved["state"] == "upgrade"
    assert moved["off_since"] == second["run"]["evaluated_at"]  # not the third run's time
    [change] = moved["changes"]
    assert (change["component_id"], change["installed_before"], change["installed_now"]) == (
        "159",
        ["2.13.0"],
        ["2.12.0"],
    )
    assert (change["state_before"], change["state_now"]) == ("compliant", "upgrade")
    runs = admin.get(f"{url}/compliance/runs").json()
    assert runs["total"] == 3
    first_id = runs["items"][-1]["id"]
    first = admin.get(f"{url}/compliance", params={"run_id": first_id}).json()
    assert _by_host(first, lab)["current"]["state"] == "compliant"  # the old snapshot kept


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"scope": {"clusters": ["no-such-cluster"]}}, ["body", "scope", "clusters"]),
        ({"scope": {"hosts": ["nowhere.example.test"]}}, ["body", "scope", "hosts"]),
        ({"catalog_id": 2_000_000_000}, ["body", "catalog_id"]),
        ({"filters": {"criticality": [7]}}, ["body", "filters", "criticality", 0]),
        ({"filters": {"exclusions": ["159", "159"]}}, ["body", "filters", "exclusions"]),
        ({"filters": {"colour": "red"}}, ["body", "filters", "colour"]),
    ],
)
def test_bad_baselines_are_a_422_naming_the_field(
    admin: httpx.Client, lab: Lab, body: dict[str, Any], loc: list[Any]
) -> None:
    full = {"name": unique("bad"), "catalog_id": lab.catalog["id"], **body}
    response = admin.post("/baselines", json=full)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [loc]


def test_reading_before_any_evaluation_says_what_to_do(admin: httpx.Client, lab: Lab) -> None:
    baseline = lab.baseline()
    response = admin.get(f"/baselines/{baseline['id']}/compliance")
    assert response.status_code == 404
    assert f"POST /baselines/{baseline['id']}/compliance" in response.json()["detail"]
    bad = admin.get(f"/baselines/{baseline['id']}/compliance", params={"format": "xml"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "format"]


def test_a_baseline_is_edited_and_deleted_with_its_history(admin: httpx.Client, lab: Lab) -> None:
    baseline = lab.baseline()
    url = f"/baselines/{baseline['id']}"
    created(admin.post(f"{url}/compliance"))
    response = admin.patch(url, json={"filters": {"pinned": {"159": "2.13.0"}}})
    assert response.status_code == 200, response.text
    assert response.json()["filters"]["pinned"] == {"159": "2.13.0"}
    assert response.json()["scope"] == baseline["scope"]
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404
    assert admin.get(f"{url}/compliance/runs").status_code == 404
