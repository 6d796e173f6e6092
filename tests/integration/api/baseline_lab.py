"""A small lab for baseline tests: a datacenter, a vCenter, two clusters, hosts with a
firmware inventory, and a catalog, all with fresh names (the session database is shared)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from simulators.idrac.catalog import Package, catalog_bytes

R650 = (("0912", "R650"),)
CATALOG = [
    Package("159", "2.13.0", R650, component_type="BIOS", name="BIOS"),
    Package("25227", "7.10.30.00", R650, criticality=2, reboot_required=False),
    Package("101560", "52.16.1-4405", R650, criticality=3),
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def inventory(bios: str, idrac: str = "7.10.30.00") -> list[dict[str, str]]:
    return [
        {"component_id": "159", "name": "BIOS", "version": bios},
        {"component_id": "25227", "name": "iDRAC", "version": idrac},
        {"component_id": "9999", "name": "Backplane", "version": "1.0"},
    ]


class Lab:
    """A datacenter, a vCenter, two clusters of hosts and a catalog, all fresh."""

    def __init__(self, admin: httpx.Client, packages: list[Package] = CATALOG) -> None:
        self.admin = admin
        self.dc = created(
            admin.post("/datacenters", json={"name": unique("dc"), "timezone": "UTC"})
        )
        vcenter = {
            "name": unique("vc"),
            "address": "vc.example.test",
            "datacenter_id": self.dc["id"],
        }
        vc = created(admin.post("/vcenters", json=vcenter))
        self.clusters = [
            created(admin.post("/clusters", json={"name": unique(n), "vcenter_id": vc["id"]}))
            for n in ("prod", "test")
        ]
        self.catalog = created(admin.post("/catalogs", content=catalog_bytes(packages)))
        self.hosts: dict[str, dict[str, Any]] = {}

    def host(self, name: str, cluster: int, firmware: list[dict[str, str]] | None) -> None:
        body = {
            "service_tag": uuid.uuid4().hex[:7].upper(),
            "idrac_address": "127.0.0.1",
            "esxi_host": f"{name}-{uuid.uuid4().hex[:6]}.example.test",
            "cluster_id": self.clusters[cluster]["id"],
            "system_id": "0x0912",
            "firmware_inventory": firmware,
        }
        self.hosts[name] = created(self.admin.post("/servers", json=body))

    def baseline(self, **extra: Any) -> dict[str, Any]:
        body = {
            "name": unique("bl"),
            "catalog_id": self.catalog["id"],
            "scope": {"clusters": [c["name"] for c in self.clusters]},
            **extra,
        }
        return created(self.admin.post("/baselines", json=body))
