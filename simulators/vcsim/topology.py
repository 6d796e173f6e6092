"""Turns a fleet file into the JSON topology that simulators/vcsim/main.go reads."""

from __future__ import annotations

from typing import Any

from simulators.fleet import ClusterSpec, Fleet, HostSpec

DELL_VENDOR = "Dell Inc."


def to_topology(fleet: Fleet) -> dict[str, Any]:
    return {
        "username": fleet.vcenter.username,
        "password": fleet.vcenter.password,
        "datacenters": [
            {"name": dc.name, "clusters": [_cluster(c) for c in dc.clusters]}
            for dc in fleet.datacenters
        ],
    }


def _cluster(cluster: ClusterSpec) -> dict[str, Any]:
    return {
        "name": cluster.name,
        "drs": cluster.drs.model_dump(),
        "ha": cluster.ha.model_dump(),
        "hosts": [_host(cluster, h) for h in cluster.hosts],
    }


def _host(cluster: ClusterSpec, host: HostSpec) -> dict[str, Any]:
    return {
        "name": host.name,
        "vendor": DELL_VENDOR,
        "model": host.model,
        "service_tag": host.service_tag,
        "cpu_cores": host.cpu_cores,
        "cpu_mhz": host.cpu_mhz,
        "memory_mb": host.memory_mb,
        "management_ip": host.management_ip or "",
        "vms": [vm.model_dump() for vm in cluster.vms_of(host)],
    }
