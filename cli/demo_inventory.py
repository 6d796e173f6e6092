"""Enter a simulated datacenter into the API, the way an operator would (admin login)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

from simulators.fleet import Fleet

IDRAC_DEFAULT_LOGIN = ("root", "calvin")  # Dell's factory default, what the simulator accepts
# Every demo campaign rolls the same way: two hosts of a cluster at a time while two stay up.
POLICY: dict[str, object] = {
    "max_concurrent_per_cluster": 2,
    "min_hosts_online": 2,
    "global_max_concurrent": 4,
    "cluster_failure_threshold": 2,
    "campaign_failure_threshold": 3,
    "on_failure": "rollback",
    "reboot": {"mode": "graceful", "grace_period_s": 30},
}


@dataclass(frozen=True)
class Package:
    component_id: str
    version: str
    file_name: str  # a Dell DUP name: the simulator reads component and version from it


def seed_inventory(api: httpx.Client, fleet: Fleet, vcenter_url: str) -> None:
    """Credential profiles, datacenters, the vCenter, clusters and servers of FLEET."""
    user, password = IDRAC_DEFAULT_LOGIN
    post(
        api,
        "/credential-profiles",
        name="idrac-default",
        scope="global",
        username=user,
        password=password,
    )
    # vCenter logins are their own hierarchy: this one opens every vCenter, never an iDRAC.
    post(
        api,
        "/credential-profiles",
        name="vcenter",
        login_for="vcenter",
        scope="global",
        username=fleet.vcenter.username,
        password=fleet.vcenter.password,
    )
    datacenters = {
        dc.name: post(api, "/datacenters", name=dc.name, timezone=dc.timezone)["id"]
        for dc in fleet.datacenters
    }
    vcenter = post(
        api,
        "/vcenters",
        name="vcenter-sim",
        address=vcenter_url,
    )
    for dc, cluster in fleet.clusters():
        cluster_id = post(api, "/clusters", name=cluster.name, vcenter_id=vcenter["id"])["id"]
        for host in cluster.hosts:
            post(
                api,
                "/servers",
                service_tag=host.service_tag,
                idrac_address=host.idrac_address,
                model=host.model,
                system_id=f"0x{host.system_id:04X}",
                esxi_host=host.name,
                datacenter_id=datacenters[dc.name],
                cluster_id=cluster_id,
            )


def upload_package(api: httpx.Client, package: Package) -> int:
    content = f"MZ demo update package {package.file_name}\n".encode()
    created = post(
        api,
        "/packages",
        name=package.file_name,
        component_id=package.component_id,
        version=package.version,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    api.put(
        f"/packages/{created['id']}/file",
        params={"file_name": package.file_name},
        content=content,
    ).raise_for_status()
    return int(created["id"])


def post(api: httpx.Client, path: str, **body: object) -> dict[str, object]:
    response = api.post(path, json=body)
    if response.is_error:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    return response.json()
