"""Capacity facts from the inventory, and the cluster capacity answer."""

from __future__ import annotations

from domain.capacity import (
    CapacityAnswer,
    CapacityPolicy,
    ClusterFacts,
    HaAdmission,
    HostResources,
    VmLoad,
    may_enter_maintenance,
)
from integrations.vcenter.client import VCenterClient
from integrations.vcenter.errors import NotFoundError
from integrations.vcenter.inventory import read_scope
from integrations.vcenter.models import ClusterInfo, HostInfo, VmInfo


def vm_load(vm: VmInfo, host: str) -> VmLoad:
    return VmLoad.of(
        name=vm.name,
        host=host,
        cpu_reservation_mhz=vm.cpu_reservation_mhz,
        cpu_usage_mhz=vm.cpu_usage_mhz,
        memory_reservation_mb=vm.memory_reservation_mb,
        memory_mb=vm.memory_mb,
    )


def host_resources(host: HostInfo) -> HostResources:
    return HostResources(
        name=host.name,
        cpu_mhz=host.cpu_cores * host.cpu_mhz_per_core,
        memory_mb=host.memory_mb,
        available=host.connected and not host.in_maintenance,
    )


def cluster_facts(cluster: ClusterInfo) -> ClusterFacts:
    ha = cluster.ha
    return ClusterFacts(
        name=cluster.name,
        hosts=[host_resources(h) for h in cluster.hosts],
        vms=[vm_load(vm, h.name) for h in cluster.hosts for vm in h.powered_on_vms],
        ha=HaAdmission(
            enabled=ha.enabled and ha.admission_control_enabled,
            policy=ha.policy,
            failover_hosts=len(ha.failover_hosts),
            failover_level=ha.failover_level,
            cpu_failover_percent=ha.cpu_failover_percent,
            memory_failover_percent=ha.memory_failover_percent,
        ),
    )


def cluster_capacity(
    client: VCenterClient, cluster_name: str, policy: CapacityPolicy
) -> CapacityAnswer:
    cluster = read_scope(client, cluster=cluster_name).cluster(cluster_name)
    if cluster is None:
        raise NotFoundError(f"no cluster named {cluster_name!r}")
    return may_enter_maintenance(cluster_facts(cluster), policy)
