"""Inventory CRUD as an admin uses it: precise errors, filters, paging, packages, windows."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import httpx

from common.settings import Settings
from domain.package_links import PackageLink
from store.crypto import package_link_keys
from tests.integration.api.conftest import SECRET_KEY, Api


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _tag() -> str:
    return uuid.uuid4().hex[:7].upper()


def test_full_inventory_chain_and_filters(admin: httpx.Client) -> None:
    dc = admin.post("/datacenters", json={"name": _name("ams"), "timezone": "Europe/Amsterdam"})
    assert dc.status_code == 201
    dc_id = dc.json()["id"]
    vc = admin.post(
        "/vcenters",
        json={"name": _name("vc"), "address": "vc.example.test", "datacenter_id": dc_id},
    ).json()
    cluster = admin.post("/clusters", json={"name": _name("prod"), "vcenter_id": vc["id"]}).json()
    inventory = [{"component_id": "159", "name": "BIOS", "version": "2.18.1"}]
    created = [
        admin.post(
            "/servers",
            json={
                "service_tag": _tag().lower(),
                "idrac_address": f"10.77.0.{i}",
                "model": "PowerEdge R650",
                "system_id": "0x0A6B",
                "esxi_host": f"esx{i}.example.test",
                "datacenter_id": dc_id,
                "cluster_id": cluster["id"],
                "firmware_inventory": inventory,
                "health": "OK",
                "last_seen_at": "2026-11-27T10:00:00+01:00",
            },
        )
        for i in range(5)
    ]
    assert all(r.status_code == 201 for r in created)
    first = created[0].json()
    assert first["service_tag"] == first["service_tag"].upper()
    assert first["firmware_inventory"] == inventory
    assert first["last_seen_at"].startswith("2026-11-27T09:00:00")  # stored as UTC

    page = admin.get("/servers", params={"cluster_id": cluster["id"], "limit": 2, "offset": 1})
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 5 and len(body["items"]) == 2 and body["offset"] == 1
    assert [s["id"] for s in body["items"]] == [created[1].json()["id"], created[2].json()["id"]]
    by_tag = admin.get("/servers", params={"service_tag": first["service_tag"].lower()}).json()
    assert [s["id"] for s in by_tag["items"]] == [first["id"]]

    patched = admin.patch(f"/servers/{first['id']}", json={"health": "Critical"})
    assert patched.json()["health"] == "Critical" and patched.json()["model"] == "PowerEdge R650"
    critical = admin.get("/servers", params={"health": "Critical", "cluster_id": cluster["id"]})
    assert critical.json()["total"] == 1

    # Still referenced: the datacenter cannot go while servers point at it.
    refused = admin.delete(f"/datacenters/{dc_id}")
    assert refused.status_code == 409
    assert admin.get(f"/datacenters/{dc_id}").status_code == 200


def test_errors_name_the_field(admin: httpx.Client) -> None:
    bad_tz = admin.post("/datacenters", json={"name": _name("x"), "timezone": "Mars/Base"})
    assert bad_tz.status_code == 422
    assert bad_tz.json()["detail"][0]["loc"] == ["body", "timezone"]
    assert "Mars/Base" not in bad_tz.text and "IANA" in bad_tz.json()["detail"][0]["msg"]

    missing_ref = admin.post(
        "/servers", json={"service_tag": _tag(), "idrac_address": "x", "cluster_id": 999999}
    )
    assert missing_ref.status_code == 422
    assert missing_ref.json()["detail"][0]["loc"] == ["body", "cluster_id"]
    assert "cluster 999999 does not exist" in missing_ref.json()["detail"][0]["msg"]

    tag = _tag()
    assert (
        admin.post("/servers", json={"service_tag": tag, "idrac_address": "a"}).status_code == 201
    )
    duplicate = admin.post("/servers", json={"service_tag": tag, "idrac_address": "b"})
    assert duplicate.status_code == 409

    dc = admin.post("/datacenters", json={"name": _name("n"), "timezone": "UTC"}).json()
    null_name = admin.patch(f"/datacenters/{dc['id']}", json={"name": None})
    assert null_name.status_code == 422 and null_name.json()["detail"][0]["loc"] == ["body", "name"]

    assert admin.get("/servers/2147483647").status_code == 404
    assert admin.get("/servers/99999999999").status_code == 422
    nul = admin.post("/datacenters", json={"name": "bad\x00name", "timezone": "UTC"})
    assert nul.status_code == 422


def test_credential_explanation_follows_specificity(admin: httpx.Client) -> None:
    dc = admin.post("/datacenters", json={"name": _name("fra"), "timezone": "Europe/Berlin"}).json()
    server = admin.post(
        "/servers",
        json={"service_tag": _tag(), "idrac_address": "172.31.9.9", "datacenter_id": dc["id"]},
    ).json()

    def explain() -> dict[str, object]:
        response = admin.get(f"/servers/{server['id']}/credential")
        assert response.status_code == 200
        return response.json()

    def profile(**scope: object) -> int:
        body = {"name": _name("p"), "username": "root", "password": "pw-explain-1", **scope}
        response = admin.post("/credential-profiles", json=body)
        assert response.status_code == 201, response.text
        assert "password" not in response.json()
        return int(response.json()["id"])

    dc_profile = profile(scope="datacenter", datacenter_id=dc["id"])
    assert explain()["profile_id"] == dc_profile
    wide = profile(scope="cidr", cidr="172.31.0.0/16")
    narrow = profile(scope="cidr", cidr="172.31.9.0/24")
    result = explain()
    assert result["profile_id"] == narrow and result["scope"] == "cidr"
    assert "172.31.9.9 is inside 172.31.9.0/24" in str(result["reason"])
    host = profile(scope="host", server_id=server["id"])
    result = explain()
    assert result["profile_id"] == host
    considered = [str(c) for c in result["considered"]]  # type: ignore[union-attr]
    assert len(considered) >= 4 and "(host)" in considered[0]
    assert wide != narrow

    same_scope = admin.post(
        "/credential-profiles",
        json={
            "name": _name("dup"),
            "scope": "cidr",
            "cidr": "172.31.9.0/24",
            "username": "u",
            "password": "pw-2-dup",
        },
    )
    assert same_scope.status_code == 422 and same_scope.json()["detail"][0]["loc"][-1] == "scope"
    host_bits = admin.post(
        "/credential-profiles",
        json={
            "name": _name("bad"),
            "scope": "cidr",
            "cidr": "10.0.0.1/8",
            "username": "u",
            "password": "pw-3-bad",
        },
    )
    assert host_bits.status_code == 422 and "cidr" in host_bits.json()["detail"][0]["msg"]


def test_package_upload_checksum_and_download(admin: httpx.Client, package_dir: Path) -> None:
    content = b"MZ\x90\x00 pretend Dell Update Package " * 10_000
    digest = hashlib.sha256(content).hexdigest()
    package = admin.post(
        "/packages",
        json={
            "name": "BIOS_R650",
            "component_id": "159",
            "version": _name("2.19"),
            "applicable_models": ["PowerEdge R650"],
            "sha256": digest,
        },
    ).json()
    assert package["download_path"] is None

    wrong = admin.put(
        f"/packages/{package['id']}/file",
        params={"file_name": "BIOS.EXE"},
        content=content + b"tampered",
    )
    assert wrong.status_code == 422 and "SHA-256" in wrong.json()["detail"][0]["msg"]
    assert not (package_dir / digest / "BIOS.EXE").exists()
    assert not list((package_dir / digest).glob(".upload-*"))

    traversal = admin.put(
        f"/packages/{package['id']}/file", params={"file_name": "../x.EXE"}, content=content
    )
    assert traversal.status_code == 422

    ok = admin.put(
        f"/packages/{package['id']}/file", params={"file_name": "BIOS.EXE"}, content=content
    )
    assert ok.status_code == 200
    assert ok.json()["size_bytes"] == len(content)
    path = ok.json()["download_path"]
    assert path == f"/repository/{digest}/BIOS.EXE"
    assert admin.get(path).content == content  # a logged-in user may fetch it
    key = package_link_keys(Settings(secret_key=SECRET_KEY))[0]
    fresh = PackageLink(7, digest, "BIOS.EXE", int(time.time()) + 600)
    with httpx.Client(base_url=str(admin.base_url)) as idrac:  # no token: iDRACs have none
        assert idrac.get(path).status_code == 401  # unsigned: only with a login
        pulled = idrac.get(fresh.path(key))
        assert pulled.status_code == 200 and pulled.content == content
        other_campaign = fresh.path(key).replace("/c/7/", "/c/8/", 1)
        expired = PackageLink(7, digest, "BIOS.EXE", int(time.time()) - 1).path(key)
        foreign = fresh.path(b"k" * 32)
        for refused in (other_campaign, expired, foreign):
            answer = idrac.get(refused)
            assert answer.status_code == 403 and answer.json()["detail"], refused
        assert "expired" in idrac.get(expired).json()["detail"]
        missing = PackageLink(7, digest, "OTHER.EXE", int(time.time()) + 600).path(key)
        assert idrac.get(missing).status_code == 404

    assert admin.delete(f"/packages/{package['id']}").status_code == 204
    assert not (package_dir / digest / "BIOS.EXE").exists()


def test_windows_weekly_and_one_off(admin: httpx.Client) -> None:
    weekly = admin.post(
        "/windows",
        json={
            "name": _name("wknd"),
            "window": {
                "kind": "weekly",
                "timezone": "America/New_York",
                "weekdays": [6, 5],
                "start": "23:30",
                "duration_minutes": 300,
            },
        },
    )
    assert weekly.status_code == 201
    assert weekly.json()["window"]["weekdays"] == [5, 6]
    once = admin.post(
        "/windows",
        json={
            "name": _name("once"),
            "window": {
                "kind": "once",
                "timezone": "Asia/Tokyo",
                "starts_at": "2027-01-02T01:00:00+09:00",
                "ends_at": "2027-01-02T05:00:00+09:00",
            },
        },
    )
    assert once.status_code == 201
    got = admin.get(f"/windows/{once.json()['id']}").json()["window"]
    assert got["starts_at"].startswith("2027-01-01T16:00:00")  # the same instant, in UTC
    backwards = admin.post(
        "/windows",
        json={
            "name": _name("bad"),
            "window": {
                "kind": "once",
                "timezone": "UTC",
                "starts_at": "2027-01-02T05:00:00Z",
                "ends_at": "2027-01-02T01:00:00Z",
            },
        },
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"][:3] == ["body", "window", "once"]
    switched = admin.patch(
        f"/windows/{weekly.json()['id']}",
        json={
            "window": {
                "kind": "once",
                "timezone": "UTC",
                "starts_at": "2027-03-01T00:00:00Z",
                "ends_at": "2027-03-01T02:00:00Z",
            }
        },
    )
    assert switched.status_code == 200 and switched.json()["window"]["kind"] == "once"


def test_metrics_and_health(api: Api, admin: httpx.Client) -> None:
    assert admin.get("/servers").status_code == 200
    with api.client() as anonymous:
        metrics = anonymous.get("/metrics")
        health = anonymous.get("/healthz")
    assert metrics.status_code == 200
    assert 'idrac_orch_http_requests_total{method="GET",route="/servers"' in metrics.text
    assert health.status_code == 200 and health.json()["status"] == "ok"


async def test_many_concurrent_reads_all_succeed(api: Api, tokens: dict[str, str]) -> None:
    """More requests in flight than worker threads and pooled connections together: each
    must still get its answer (a session closed on the shared thread pool once deadlocked
    here until the pool timed out)."""
    import asyncio

    limits = httpx.Limits(max_connections=150)
    async with httpx.AsyncClient(
        base_url=api.url,
        headers={"Authorization": f"Bearer {tokens['viewer']}"},
        limits=limits,
        timeout=120,
    ) as client:
        responses = await asyncio.gather(
            *(client.get("/servers", params={"limit": 5}) for _ in range(150))
        )
    assert [r.status_code for r in responses] == [200] * 150
