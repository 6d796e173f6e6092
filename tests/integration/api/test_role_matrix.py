"""Every endpoint x every role: anonymous gets 401, a too-low role 403 (and changes
nothing), a sufficient role the endpoint's success status. The table below is written out
by hand on purpose: it is the specification the code is checked against, and a route
missing from it fails the coverage test."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from api.main import create_app
from common.settings import Settings
from domain.notifications import PUBLISH_WORKFLOW, EventKind, NotificationEvent
from domain.package_links import PackageLink
from simulators.idrac.catalog import Package, catalog_bytes
from store.crypto import package_link_keys
from store.db import make_engine
from store.notify_outbox import record, record_attempt
from tests.integration.api.conftest import NAMESPACE, SECRET_KEY, Api
from tests.integration.api.console_matrix import CONSOLE, console_client, console_routes, send

ROLES = ("anonymous", "viewer", "operator", "admin")
# "approver" is a right beside the roles that no role implies: every role token is refused.
RANK = {"public": -1, "viewer": 1, "operator": 2, "admin": 3, "anonymous": 0, "approver": 4}
PACKAGE_BYTES = b"DUP image bytes for the role matrix"


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] | None = None
    check_unchanged: str | None = None  # GET this after a refusal: it must still exist


def _catalog() -> bytes:
    """A new catalog each call (its Manifest identifier is random): never a duplicate."""
    return catalog_bytes([Package("159", "2.13.0")])


def _u(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _tag() -> str:
    return uuid.uuid4().hex[:7].upper()


class Fixtures:
    """Creates what a call needs, fresh when the call consumes it (deletes, aborts)."""

    def __init__(self, admin: httpx.AsyncClient) -> None:
        self.admin = admin

    async def post(self, url: str, body: dict[str, Any]) -> int:
        response = await self.admin.post(url, json=body)
        assert response.status_code == 201, (url, response.text)
        return int(response.json()["id"])

    async def datacenter(self) -> int:
        return await self.post("/datacenters", {"name": _u("dc"), "timezone": "Europe/Amsterdam"})

    async def vcenter(self) -> int:
        return await self.post("/vcenters", {"name": _u("vc"), "address": "vc.example.test"})

    async def cluster(self) -> int:
        return await self.post("/clusters", {"name": _u("cl"), "vcenter_id": await self.vcenter()})

    async def server(self) -> int:
        return await self.post("/servers", {"service_tag": _tag(), "idrac_address": "10.20.30.40"})

    async def profile(self) -> int:
        body = {"name": _u("p"), "scope": "host", "server_id": await self.server()}
        return await self.post(
            "/credential-profiles", {**body, "username": "root", "password": "x1-y2-z3"}
        )

    async def package(self, content: bytes = PACKAGE_BYTES) -> int:
        body = {
            "name": _u("pkg"),
            "component_id": "159",
            "version": _u("v"),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        return await self.post("/packages", body)

    async def window(self) -> int:
        window = {
            "kind": "weekly",
            "timezone": "UTC",
            "weekdays": [5],
            "start": "22:00",
            "duration_minutes": 120,
        }
        return await self.post("/windows", {"name": _u("w"), "window": window})

    async def campaign(self, started: bool = False) -> int:
        package = (await self.admin.get(f"/packages/{await self.package()}")).json()
        tag = (await self.admin.get(f"/servers/{await self.server()}")).json()["service_tag"]
        spec = {
            "targets": {"service_tags": [tag]},
            "firmware": [
                {"component_id": "159", "version": package["version"], "package_id": package["id"]}
            ],
        }
        campaign_id = await self.post("/campaigns", {"name": _u("c"), "spec": spec})
        if started:
            response = await self.admin.post(f"/campaigns/{campaign_id}/start")
            assert response.status_code == 202, response.text
        return campaign_id

    async def discovery(self) -> int:
        # Loopback only; no worker in this namespace runs discoveries, so nothing is probed.
        response = await self.admin.post("/discoveries", json={"ranges": ["127.0.0.1/32"]})
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    async def vcenter_with_login(self) -> int:
        body = {"name": _u("vc"), "address": "vc.example.test"}
        return await self.post("/vcenters", {**body, "credential_profile_id": await self.profile()})

    async def vcenter_sync(self) -> tuple[int, int]:
        # No worker in this namespace runs syncs, so no vCenter is called.
        vcenter_id = await self.vcenter_with_login()
        response = await self.admin.post(f"/vcenters/{vcenter_id}/sync")
        assert response.status_code == 202, response.text
        return vcenter_id, int(response.json()["id"])

    async def sweep(self) -> int:
        # No worker in this namespace runs sweeps, so no iDRAC is called.
        response = await self.admin.post("/inventory-sweeps")
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    async def validation(self) -> str:
        response = await self.admin.post("/onboarding/validations", json={})
        assert response.status_code == 202, response.text
        return str(response.json()["workflow_id"])

    async def catalog(self) -> int:
        response = await self.admin.post("/catalogs", content=_catalog())
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def token(self) -> int:
        return await self.post("/auth/tokens", {"name": _u("t"), "role": "viewer"})

    async def uploaded_package(self) -> str:
        package_id = await self.package()
        response = await self.admin.put(
            f"/packages/{package_id}/file", params={"file_name": "fw.EXE"}, content=PACKAGE_BYTES
        )
        assert response.status_code == 200, response.text
        return str(response.json()["download_path"])

    async def signed_package_link(self) -> str:
        """What an iDRAC gets: the uploaded file behind a signed, unexpired link."""
        _, _, sha256, file_name = (await self.uploaded_package()).split("/")
        link = PackageLink(await self.campaign(), sha256, file_name, int(time.time()) + 600)
        return link.path(package_link_keys(Settings(secret_key=SECRET_KEY))[0])

    async def baseline(self) -> int:
        return await self.post("/baselines", await _baseline_body(self))

    async def evaluated_baseline(self) -> int:
        baseline_id = await self.baseline()
        response = await self.admin.post(f"/baselines/{baseline_id}/compliance")
        assert response.status_code == 201, response.text
        return baseline_id

    async def remediable_baseline(self) -> int:
        """A host a version behind a fresh catalog, with the package in the repository."""
        version = _u("9.0")
        catalog = catalog_bytes([Package("159", version)])
        catalog_id = int((await self.admin.post("/catalogs", content=catalog)).json()["id"])
        await self.post(
            "/packages",
            {"name": _u("pkg"), "component_id": "159", "version": version, "sha256": "b" * 64},
        )
        server = {
            "service_tag": _tag(),
            "idrac_address": "10.20.30.41",
            "cluster_id": await self.cluster(),
            "system_id": "0x0912",
            "firmware_inventory": [{"component_id": "159", "name": "BIOS", "version": "1.0.0"}],
        }
        server_id = await self.post("/servers", server)
        tag = (await self.admin.get(f"/servers/{server_id}")).json()["service_tag"]
        body = {"name": _u("bl"), "catalog_id": catalog_id, "scope": {"hosts": [tag]}}
        return await self.post("/baselines", body)


Make = Callable[[Fixtures], Awaitable[Call]]


def crud(
    resource: str,
    factory: str,
    create: Callable[[Fixtures], Awaitable[dict[str, Any]]],
    patch: dict[str, Any],
) -> dict[str, tuple[str, int, Make]]:
    """The five CRUD cells of an admin-managed inventory resource."""

    async def one(f: Fixtures) -> int:
        return int(await getattr(f, factory)())

    async def listing(f: Fixtures) -> Call:
        return Call("GET", f"/{resource}")

    async def get(f: Fixtures) -> Call:
        return Call("GET", f"/{resource}/{await one(f)}")

    async def post(f: Fixtures) -> Call:
        return Call("POST", f"/{resource}", json=await create(f))

    async def update(f: Fixtures) -> Call:
        ident = await one(f)
        return Call("PATCH", f"/{resource}/{ident}", json=patch)

    async def remove(f: Fixtures) -> Call:
        ident = await one(f)
        return Call("DELETE", f"/{resource}/{ident}", check_unchanged=f"/{resource}/{ident}")

    param = "profile_id" if resource == "credential-profiles" else f"{resource.rstrip('s')}_id"
    base, item = f"/{resource}", f"/{resource}/{{{param}}}"
    return {
        f"GET {base}": ("viewer", 200, listing),
        f"POST {base}": ("admin", 201, post),
        f"GET {item}": ("viewer", 200, get),
        f"PATCH {item}": ("admin", 200, update),
        f"DELETE {item}": ("admin", 204, remove),
    }


async def _dc_body(f: Fixtures) -> dict[str, Any]:
    return {"name": _u("dc"), "timezone": "UTC"}


async def _vc_body(f: Fixtures) -> dict[str, Any]:
    return {"name": _u("vc"), "address": "vc2.example.test", "datacenter_id": await f.datacenter()}


async def _cluster_body(f: Fixtures) -> dict[str, Any]:
    return {"name": _u("cl"), "vcenter_id": await f.vcenter()}


async def _server_body(f: Fixtures) -> dict[str, Any]:
    return {"service_tag": _tag(), "idrac_address": "10.9.8.7", "cluster_id": await f.cluster()}


async def _profile_body(f: Fixtures) -> dict[str, Any]:
    return {
        "name": _u("p"),
        "scope": "host",
        "server_id": await f.server(),
        "username": "root",
        "password": "pw-matrix-1",
    }


async def _package_body(f: Fixtures) -> dict[str, Any]:
    return {"name": _u("pkg"), "component_id": "28897", "version": _u("v"), "sha256": "a" * 64}


async def _window_body(f: Fixtures) -> dict[str, Any]:
    return {
        "name": _u("w"),
        "window": {
            "kind": "once",
            "timezone": "UTC",
            "starts_at": "2027-01-02T00:00:00Z",
            "ends_at": "2027-01-02T06:00:00Z",
        },
    }


def _simple(
    role: str, ok: int, method: str, path: Callable[[Fixtures], Awaitable[str]], **extra: Any
) -> tuple[str, int, Make]:
    async def make(f: Fixtures) -> Call:
        return Call(method, await path(f), **extra)

    return (role, ok, make)


async def _campaign_body(f: Fixtures) -> Call:
    package = (await f.admin.get(f"/packages/{await f.package()}")).json()
    tag = (await f.admin.get(f"/servers/{await f.server()}")).json()["service_tag"]
    firmware = [{"component_id": "159", "version": package["version"], "package_id": package["id"]}]
    spec = {"targets": {"service_tags": [tag]}, "firmware": firmware}
    return Call("POST", "/campaigns", json={"name": _u("c"), "spec": spec})


async def _upload(f: Fixtures) -> Call:
    package_id = await f.package()
    return Call(
        "PUT", f"/packages/{package_id}/file", params={"file_name": "fw.EXE"}, content=PACKAGE_BYTES
    )


async def _abort(f: Fixtures) -> Call:
    campaign_id = await f.campaign(started=True)
    return Call("POST", f"/campaigns/{campaign_id}/abort", json={"reason": "role matrix"})


async def _approve(f: Fixtures) -> Call:
    return Call("POST", f"/campaigns/{await f.campaign(started=True)}/approve", json={})


async def _reject(f: Fixtures) -> Call:
    campaign_id = await f.campaign(started=True)
    return Call("POST", f"/campaigns/{campaign_id}/reject", json={"reason": "role matrix"})


async def _approve_cluster(f: Fixtures) -> Call:
    campaign_id = await f.campaign(started=True)
    return Call("POST", f"/campaigns/{campaign_id}/clusters/alpha/approve", json={})


async def _reject_cluster(f: Fixtures) -> Call:
    campaign_id = await f.campaign(started=True)
    url = f"/campaigns/{campaign_id}/clusters/alpha/reject"
    return Call("POST", url, json={"reason": "role matrix"})


async def _revoke(f: Fixtures) -> Call:
    return Call("DELETE", f"/auth/tokens/{await f.token()}")


async def _sync_path(f: Fixtures) -> str:
    vcenter_id, run_id = await f.vcenter_sync()
    return f"/vcenters/{vcenter_id}/syncs/{run_id}"


async def _validation_path(f: Fixtures) -> str:
    return f"/onboarding/validations/{await f.validation()}"


async def _started(f: Fixtures) -> str:
    return f"/campaigns/{await f.campaign(started=True)}"


MATRIX: dict[str, tuple[str, int, Make]] = {
    **crud("datacenters", "datacenter", _dc_body, {"timezone": "Asia/Tokyo"}),
    **crud("vcenters", "vcenter", _vc_body, {"address": "vc9.example.test"}),
    **crud("clusters", "cluster", _cluster_body, {"name": _u("renamed")}),
    **crud("servers", "server", _server_body, {"health": "Warning", "model": "PowerEdge R650"}),
    **crud("credential-profiles", "profile", _profile_body, {"password": "rotated-pw-2"}),
    **crud("packages", "package", _package_body, {"applicable_models": ["PowerEdge R750"]}),
    **crud("windows", "window", _window_body, {"name": _u("w2")}),
    "GET /healthz": _simple("public", 200, "GET", lambda f: _const("/healthz")),
    "GET /metrics": _simple("public", 200, "GET", lambda f: _const("/metrics")),
    "POST /auth/login": (
        "public",
        401,
        lambda f: _call(Call("POST", "/auth/login", json={"username": "x", "password": "y"})),
    ),
    "GET /repository/{sha256}/{file_name}": _simple(
        "viewer", 200, "GET", lambda f: f.uploaded_package()
    ),
    "GET /repository/c/{campaign_id}/{expires}/{signature}/{sha256}/{file_name}": _simple(
        "public", 200, "GET", lambda f: f.signed_package_link()
    ),
    "GET /auth/me": _simple("viewer", 200, "GET", lambda f: _const("/auth/me")),
    "POST /auth/tokens": (
        "admin",
        201,
        lambda f: _call(Call("POST", "/auth/tokens", json={"name": _u("t"), "role": "operator"})),
    ),
    "GET /auth/tokens": _simple("admin", 200, "GET", lambda f: _const("/auth/tokens")),
    "DELETE /auth/tokens/{token_id}": ("admin", 204, _revoke),
    "GET /servers/{server_id}/credential": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/servers/{}/credential", f.server())
    ),
    "PUT /packages/{package_id}/file": ("admin", 200, _upload),
    "POST /campaigns": ("operator", 201, _campaign_body),
    "GET /campaigns": _simple("viewer", 200, "GET", lambda f: _const("/campaigns")),
    "GET /campaigns/{campaign_id}": _simple("viewer", 200, "GET", _started),
    "GET /campaigns/{campaign_id}/hosts": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/campaigns/{}/hosts", f.campaign())
    ),
    "POST /campaigns/{campaign_id}/start": _simple(
        "operator", 202, "POST", lambda f: _fmt("/campaigns/{}/start", f.campaign())
    ),
    "POST /campaigns/{campaign_id}/pause": _simple(
        "operator", 202, "POST", lambda f: _suffix(_started(f), "/pause")
    ),
    "POST /campaigns/{campaign_id}/resume": _simple(
        "operator", 202, "POST", lambda f: _suffix(_started(f), "/resume")
    ),
    "POST /campaigns/{campaign_id}/abort": ("operator", 202, _abort),
    "POST /campaigns/{campaign_id}/approve": ("approver", 202, _approve),
    "POST /campaigns/{campaign_id}/reject": ("approver", 202, _reject),
    "POST /campaigns/{campaign_id}/clusters/{cluster}/approve": ("approver", 202, _approve_cluster),
    "POST /campaigns/{campaign_id}/clusters/{cluster}/reject": ("approver", 202, _reject_cluster),
    "POST /discoveries": _simple(
        "admin", 202, "POST", lambda f: _const("/discoveries"), json={"ranges": ["127.0.0.1"]}
    ),
    "GET /discoveries": _simple("viewer", 200, "GET", lambda f: _const("/discoveries")),
    "GET /discoveries/{run_id}": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/discoveries/{}", f.discovery())
    ),
    "GET /discoveries/{run_id}/findings": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/discoveries/{}/findings", f.discovery())
    ),
    "POST /vcenters/{vcenter_id}/sync": _simple(
        "admin", 202, "POST", lambda f: _fmt("/vcenters/{}/sync", f.vcenter_with_login())
    ),
    "GET /vcenters/{vcenter_id}/syncs": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/vcenters/{}/syncs", f.vcenter())
    ),
    "GET /vcenters/{vcenter_id}/syncs/{run_id}": _simple("viewer", 200, "GET", _sync_path),
    "POST /inventory-sweeps": _simple(
        "operator", 202, "POST", lambda f: _const("/inventory-sweeps")
    ),
    "GET /inventory-sweeps": _simple("viewer", 200, "GET", lambda f: _const("/inventory-sweeps")),
    "GET /inventory-sweeps/{sweep_id}": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/inventory-sweeps/{}", f.sweep())
    ),
    "GET /servers/{server_id}/health": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/servers/{}/health", f.server())
    ),
    "GET /servers/{server_id}/readings": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/servers/{}/readings", f.server())
    ),
    "POST /enrollments/import": _simple(
        "admin",
        200,
        "POST",
        lambda f: _const("/enrollments/import"),
        params={"format": "csv"},
        content=b"address\n10.77.0.1\n",
    ),
    "GET /enrollments": _simple("viewer", 200, "GET", lambda f: _const("/enrollments")),
    "POST /onboarding/validations": _simple(
        "admin", 202, "POST", lambda f: _const("/onboarding/validations"), json={}
    ),
    "GET /onboarding/validations/{workflow_id}": _simple("viewer", 200, "GET", _validation_path),
    "GET /onboarding/report": _simple("viewer", 200, "GET", lambda f: _const("/onboarding/report")),
    "POST /catalogs": (
        "admin",
        201,
        lambda f: _call(Call("POST", "/catalogs", content=_catalog())),
    ),
    "GET /catalogs": _simple("viewer", 200, "GET", lambda f: _const("/catalogs")),
    "GET /catalogs/{catalog_id}": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/catalogs/{}", f.catalog())
    ),
    "GET /catalogs/{catalog_id}/components": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/catalogs/{}/components", f.catalog())
    ),
    "GET /audit": _simple("viewer", 200, "GET", lambda f: _const("/audit")),
    "GET /audit/export.csv": _simple("viewer", 200, "GET", lambda f: _const("/audit/export.csv")),
    "GET /audit/stream": _simple(
        "viewer", 200, "GET", lambda f: _const("/audit/stream"), params={"follow": "false"}
    ),
    "GET /audit/forwarding": _simple("admin", 200, "GET", lambda f: _const("/audit/forwarding")),
    "POST /codec/decode": (
        "viewer",
        200,
        lambda f: _call(Call("POST", "/codec/decode", json={"payloads": []})),
    ),
    "POST /codec/encode": (
        "operator",
        200,
        lambda f: _call(Call("POST", "/codec/encode", json={"payloads": []})),
    ),
    "POST /codec/session": ("viewer", 204, lambda f: _call(Call("POST", "/codec/session"))),
    **crud("baselines", "baseline", lambda f: _baseline_body(f), {"description": "matrix"}),
    "POST /baselines/{baseline_id}/compliance": _simple(
        "operator", 201, "POST", lambda f: _fmt("/baselines/{}/compliance", f.baseline())
    ),
    "GET /baselines/{baseline_id}/compliance": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/baselines/{}/compliance", f.evaluated_baseline())
    ),
    "GET /baselines/{baseline_id}/compliance/runs": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/baselines/{}/compliance/runs", f.baseline())
    ),
    "GET /baselines/{baseline_id}/drift": _simple(
        "viewer", 200, "GET", lambda f: _fmt("/baselines/{}/drift", f.evaluated_baseline())
    ),
    "POST /baselines/{baseline_id}/remediation/plan": _simple(
        "viewer",
        200,
        "POST",
        lambda f: _fmt("/baselines/{}/remediation/plan", f.baseline()),
        json={},
    ),
    "POST /baselines/{baseline_id}/remediation": ("operator", 201, lambda f: _remediation(f)),
    "POST /baselines/{baseline_id}/packages": _simple(
        "admin", 200, "POST", lambda f: _fmt("/baselines/{}/packages", f.baseline()), json={}
    ),
    "POST /packages/match": ("admin", 201, lambda f: _matched_upload(f)),
}


async def _matched_upload(f: Fixtures) -> Call:
    """A DUP whose SHA-256 a fresh catalog lists."""
    content = f"DUP {uuid.uuid4()}".encode()
    sha = hashlib.sha256(content).hexdigest()
    package = Package("159", _u("9.1"), extra=f' hashSHA256="{sha}"')
    response = await f.admin.post("/catalogs", content=catalog_bytes([package]))
    assert response.status_code == 201, response.text
    return Call("POST", "/packages/match", params={"file_name": "dup.EXE"}, content=content)


async def _remediation(f: Fixtures) -> Call:
    return Call("POST", f"/baselines/{await f.remediable_baseline()}/remediation", json={})


async def _baseline_body(f: Fixtures) -> dict[str, Any]:
    scope = {"hosts": [(await f.admin.get(f"/servers/{await f.server()}")).json()["service_tag"]]}
    return {"name": _u("bl"), "catalog_id": await f.catalog(), "scope": scope}


# ---- notifications (channels and rules: admin writes, everyone reads; the delivery log) ----


async def _notify_channel(f: Fixtures) -> int:
    body = {"kind": "webhook", "name": _u("hook"), "config": {"url": "http://127.0.0.1:9/h"}}
    return await f.post("/notifications/channels", {**body, "secret": "matrix-hmac-key-0001"})


async def _notify_rule(f: Fixtures) -> int:
    return await f.post("/notifications/rules", {"channel_id": await _notify_channel(f)})


async def _notify_delivery(f: Fixtures) -> int:
    """A delivery as the publish activity records it (nothing sends in this suite)."""
    await _notify_rule(f)
    event = NotificationEvent(
        key=_u("matrix"),
        kind=EventKind.DRIFT_FOUND,
        subject="matrix",
        occurred_at=datetime.now(UTC),
    )
    engine = make_engine(_NOTIFY_DATABASE[0])
    try:
        with Session(engine) as session:
            return record(session, event)[0]
    finally:
        engine.dispose()


async def _failed_delivery(f: Fixtures) -> int:
    """A delivery whose attempts all failed, ready to be sent again."""
    delivery_id = await _notify_delivery(f)
    engine = make_engine(_NOTIFY_DATABASE[0])
    try:
        with Session(engine) as session:
            record_attempt(session, delivery_id, "the receiver answered HTTP 500", final=True)
    finally:
        engine.dispose()
    return delivery_id


_NOTIFY_DATABASE: list[str] = []


@pytest_asyncio.fixture(scope="module", autouse=True)
async def end_unserved_resends(temporal_namespaces: dict[str, Client]) -> AsyncIterator[None]:
    """No worker here serves the notifications queue: end the resends the cells started."""
    yield
    client = temporal_namespaces[NAMESPACE]
    query = f"WorkflowType = '{PUBLISH_WORKFLOW}' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        await client.get_workflow_handle(execution.id).terminate("role matrix finished")


@pytest.fixture(autouse=True)
def _notify_database(api: Api) -> None:
    _NOTIFY_DATABASE[:] = [api.settings.effective_database_url]


async def _channel_create(f: Fixtures) -> Call:
    body = {"kind": "webhook", "name": _u("hook"), "config": {"url": "https://127.0.0.1:9/h"}}
    return Call("POST", "/notifications/channels", json={**body, "secret": "matrix-hmac-key-02"})


async def _channel_delete(f: Fixtures) -> Call:
    path = f"/notifications/channels/{await _notify_channel(f)}"
    return Call("DELETE", path, check_unchanged=path)


async def _rule_create(f: Fixtures) -> Call:
    body = {"channel_id": await _notify_channel(f), "kinds": ["host.held"]}
    return Call("POST", "/notifications/rules", json=body)


async def _rule_delete(f: Fixtures) -> Call:
    path = f"/notifications/rules/{await _notify_rule(f)}"
    return Call("DELETE", path, check_unchanged=path)


MATRIX.update(
    {
        "GET /notifications/channels": _simple(
            "viewer", 200, "GET", lambda f: _const("/notifications/channels")
        ),
        "POST /notifications/channels": ("admin", 201, _channel_create),
        "GET /notifications/channels/{channel_id}": _simple(
            "viewer", 200, "GET", lambda f: _fmt("/notifications/channels/{}", _notify_channel(f))
        ),
        "PATCH /notifications/channels/{channel_id}": _simple(
            "admin",
            200,
            "PATCH",
            lambda f: _fmt("/notifications/channels/{}", _notify_channel(f)),
            json={"enabled": False},
        ),
        "DELETE /notifications/channels/{channel_id}": ("admin", 204, _channel_delete),
        "GET /notifications/rules": _simple(
            "viewer", 200, "GET", lambda f: _const("/notifications/rules")
        ),
        "POST /notifications/rules": ("admin", 201, _rule_create),
        "GET /notifications/rules/{rule_id}": _simple(
            "viewer", 200, "GET", lambda f: _fmt("/notifications/rules/{}", _notify_rule(f))
        ),
        "PATCH /notifications/rules/{rule_id}": _simple(
            "admin",
            200,
            "PATCH",
            lambda f: _fmt("/notifications/rules/{}", _notify_rule(f)),
            json={"enabled": False},
        ),
        "DELETE /notifications/rules/{rule_id}": ("admin", 204, _rule_delete),
        "GET /notifications/deliveries": _simple(
            "viewer", 200, "GET", lambda f: _const("/notifications/deliveries")
        ),
        "POST /notifications/deliveries/{delivery_id}/retry": _simple(
            "operator",
            202,
            "POST",
            lambda f: _fmt("/notifications/deliveries/{}/retry", _failed_delivery(f)),
        ),
        "GET /notifications/deliveries/{delivery_id}": _simple(
            "viewer",
            200,
            "GET",
            lambda f: _fmt("/notifications/deliveries/{}", _notify_delivery(f)),
        ),
    }
)


async def _const(value: str) -> str:
    return value


async def _call(value: Call) -> Call:
    return value


async def _fmt(template: str, ident: Awaitable[int]) -> str:
    return template.format(await ident)


async def _suffix(prefix: Awaitable[str], suffix: str) -> str:
    return (await prefix) + suffix


@pytest_asyncio.fixture(scope="module", autouse=True)
async def end_unserved_workflows(temporal_namespaces: dict[str, Client]) -> AsyncIterator[None]:
    """Discoveries, validations, vCenter syncs and sweeps started here have no worker in this
    namespace (the contract worker serves campaigns only): end them rather than leave them
    retrying."""
    yield
    client = temporal_namespaces[NAMESPACE]
    unserved = (
        "WorkflowType IN ('DiscoveryWorkflow', 'OnboardingValidationWorkflow', "
        "'VcenterSyncWorkflow', 'InventorySweepWorkflow')"
    )
    async for execution in client.list_workflows(f"{unserved} AND ExecutionStatus = 'Running'"):
        await client.get_workflow_handle(execution.id).terminate("role matrix finished")


def test_matrix_covers_every_route(api: Api) -> None:
    paths = create_app(api.settings).openapi()["paths"]
    routes = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    assert routes == set(MATRIX)


async def _send(client: httpx.AsyncClient, call: Call) -> httpx.Response:
    return await client.request(
        call.method, call.url, json=call.json, content=call.content, params=call.params
    )


_reusable: dict[str, Call] = {}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
async def test_cell(
    api: Api, tokens: dict[str, str], contract_worker: Worker, endpoint: str, role: str
) -> None:
    required, success, make = MATRIX[endpoint]
    async with api.async_client(tokens["admin"]) as admin:
        call = _reusable.get(endpoint) or await make(Fixtures(admin))
        if not endpoint.startswith(("POST", "DELETE")) or endpoint.endswith(("/pause", "/resume")):
            _reusable[endpoint] = call  # reads and idempotent writes: set up once
        async with api.async_client(tokens.get(role)) as client:
            response = await _send(client, call)
        if required == "public" or RANK[role] >= RANK[required]:
            assert response.status_code == success, response.text
        else:
            expected = 401 if role == "anonymous" else 403
            assert response.status_code == expected, response.text
            if call.check_unchanged:
                assert (await admin.get(call.check_unchanged)).status_code == 200


# --- the console (/ui): its pages are not in the OpenAPI document; listed from the app --


def test_console_matrix_covers_every_console_route(api: Api) -> None:
    assert console_routes(create_app(api.settings)) == set(CONSOLE)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CONSOLE))
async def test_console_cell(
    api: Api, tokens: dict[str, str], contract_worker: Worker, endpoint: str, role: str
) -> None:
    rule = CONSOLE[endpoint]
    async with api.async_client(tokens["admin"]) as admin:
        cell = await rule.make(Fixtures(admin))
        async with console_client(api.url, tokens.get(role)) as client:
            code = await send(client, cell, logged_in=role != "anonymous")
        allowed = role != "anonymous" and RANK[role] >= RANK[rule.role]
        expected = rule.anonymous if role == "anonymous" else rule.ok if allowed else 403
        assert code == expected
        if not allowed and cell.keeps:
            assert (await admin.get(cell.keeps[0])).json()["status"] == cell.keeps[1]
