"""The hot inventory reads (GET /servers, GET /servers/{id}) on both databases: the page total
comes back with the page in one query, so its edge cases are checked here - a page past the
end, no match, every filter - as well as the 404 and the exact JSON of one server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import BREAKGLASS_PASSWORD, Api, serve


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest, api: Api, tmp_path: Path) -> Iterator[Api]:
    if request.param == "postgresql":
        yield api
        return
    settings = api.settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path}/orch.db", "package_dir": tmp_path}
    )
    with serve(settings) as url:
        yield Api(url, settings)


@pytest.fixture
def admin_client(backend: Api) -> Iterator[httpx.Client]:
    token = backend.login("breakglass", BREAKGLASS_PASSWORD)
    with backend.client(token) as client:
        yield client


def _cluster_with_servers(client: httpx.Client, count: int) -> tuple[int, list[dict]]:
    name = uuid.uuid4().hex[:8]
    dc = client.post("/datacenters", json={"name": f"dc-{name}", "timezone": "UTC"}).json()
    vc = client.post(
        "/vcenters", json={"name": f"vc-{name}", "address": "vc.test", "datacenter_id": dc["id"]}
    ).json()
    cluster = client.post("/clusters", json={"name": f"c-{name}", "vcenter_id": vc["id"]}).json()
    servers = []
    for i in range(count):
        created = client.post(
            "/servers",
            json={
                "service_tag": uuid.uuid4().hex[:7].upper(),
                "idrac_address": f"10.88.0.{i + 1}",
                "model": "PowerEdge R760" if i == 0 else "PowerEdge R650",
                "datacenter_id": dc["id"],
                "cluster_id": cluster["id"],
                "firmware_inventory": [{"component_id": "159", "name": "BIOS", "version": "2.1"}],
                "health": "Warning" if i == 0 else "OK",
                "last_seen_at": "2026-11-27T10:00:00.5+01:00",
            },
        )
        assert created.status_code == 201, created.text
        servers.append(created.json())
    return cluster["id"], servers


def test_pages_totals_and_filters(admin_client: httpx.Client) -> None:
    cluster_id, servers = _cluster_with_servers(admin_client, 3)

    def page(**params: object) -> dict:
        response = admin_client.get("/servers", params={"cluster_id": cluster_id, **params})
        assert response.status_code == 200, response.text
        return response.json()

    first = page(limit=2)
    assert first == {"items": servers[:2], "total": 3, "limit": 2, "offset": 0}
    assert page(limit=2, offset=2) == {"items": servers[2:], "total": 3, "limit": 2, "offset": 2}
    # Past the end: no row carries the total, yet the total is still the true one.
    assert page(limit=2, offset=3) == {"items": [], "total": 3, "limit": 2, "offset": 3}
    assert page(limit=5, offset=500)["total"] == 3
    assert page(health="Critical") == {"items": [], "total": 0, "limit": 100, "offset": 0}
    assert page(health="Critical", offset=7)["total"] == 0

    tag = servers[1]["service_tag"]
    assert page(service_tag=tag.lower())["items"] == [servers[1]]
    assert page(model="PowerEdge R650", limit=1)["total"] == 2
    assert page(health="Warning")["items"] == [servers[0]]
    datacenter_id = servers[0]["datacenter_id"]
    everything = admin_client.get("/servers", params={"datacenter_id": datacenter_id}).json()
    assert everything["total"] == 3 and everything["items"] == servers


def test_get_one_server_and_404(admin_client: httpx.Client) -> None:
    _, servers = _cluster_with_servers(admin_client, 1)
    one = admin_client.get(f"/servers/{servers[0]['id']}")
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    assert one.json() == servers[0]
    assert one.json()["last_seen_at"].startswith("2026-11-27T09:00:00.5")  # UTC on both databases

    missing = admin_client.get("/servers/2147483000")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "server 2147483000 does not exist"}


def test_reads_need_a_token(backend: Api) -> None:
    with backend.client() as anonymous:
        assert anonymous.get("/servers").status_code == 401
        assert anonymous.get("/servers/1").status_code == 401


def test_a_filter_the_database_cannot_hold_is_the_clients_error(
    backend: Api, admin_client: httpx.Client
) -> None:
    """PostgreSQL text cannot hold a NUL character: 422 naming the filter, not a 500
    (schemathesis found it on the async read path); refused before any database sees it."""
    response = admin_client.get("/servers", params={"model": "R650\x00", "limit": 10})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "model"]
