"""Preflight: everything that would stop a host from entering maintenance, named
before anything changes: connection, cluster capacity (HA, policy), DRS mode, VMs no
other host can run (our reading of the VM and cluster, then vCenter's CheckMigrate).
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field
from pyVmomi import vim, vmodl

from common.logging import get_logger
from domain.capacity import (
    CapacityAnswer,
    CapacityPolicy,
    HostHeadroom,
    may_enter_maintenance,
    plan_evacuation,
)
from integrations.vcenter.capacity import cluster_facts, host_resources, vm_load
from integrations.vcenter.client import VCenterClient, fault_text, props_of, wait_for_task
from integrations.vcenter.inventory import find_host, read_scope
from integrations.vcenter.models import ClusterInfo, FrozenModel, HostInfo, Inventory, VmInfo

log = get_logger(__name__)

EvacuationPolicy = Literal["drs", "migrate"]
CHECK_TIMEOUT_S = 60.0
CHECK_POLL_S = 0.2


class MaintenanceOptions(FrozenModel):
    evacuation: EvacuationPolicy = Field(
        default="drs",
        description="drs: refuse unless DRS is fully automated; "
        "migrate: move powered-on VMs ourselves, to hosts chosen by headroom",
    )
    timeout_s: float = Field(default=3600.0, gt=0)
    poll_s: float = Field(default=0.5, gt=0)
    capacity: CapacityPolicy = Field(default_factory=CapacityPolicy)


class Blocker(FrozenModel):
    kind: str
    subject: str
    reason: str

    def __str__(self) -> str:
        return self.reason


class Preflight(FrozenModel):
    host: str
    cluster: str | None
    already_in_maintenance: bool
    blockers: list[Blocker]
    migrations: dict[str, str] = Field(description="VM -> target host we would move it to")
    capacity: CapacityAnswer | None


def preflight_enter(
    client: VCenterClient, host_name: str, options: MaintenanceOptions
) -> Preflight:
    """Everything that would stop ``host_name`` from entering maintenance, before any change."""
    return check_host(client, read_scope(client, host=host_name), host_name, options)


def check_host(
    client: VCenterClient, inventory: Inventory, host_name: str, options: MaintenanceOptions
) -> Preflight:
    """The preflight against an inventory the caller already read."""
    host, cluster = find_host(inventory, host_name)
    if host.in_maintenance:
        return Preflight(
            host=host.name,
            cluster=host.cluster,
            already_in_maintenance=True,
            blockers=[],
            migrations={},
            capacity=None,
        )
    blockers: list[Blocker] = []
    if not host.connected:
        blockers.append(
            Blocker(
                kind="not_connected",
                subject=host.name,
                reason=f"{host.name} is {host.connection_state}, not connected",
            )
        )
    if cluster is None:
        blockers.append(
            Blocker(kind="no_cluster", subject=host.name, reason=f"{host.name} is not in a cluster")
        )
        return Preflight(
            host=host.name,
            cluster=None,
            already_in_maintenance=False,
            blockers=blockers,
            migrations={},
            capacity=None,
        )
    answer = may_enter_maintenance(cluster_facts(cluster), options.capacity)
    if answer.may_enter == 0:
        rule = min(answer.limits, key=lambda limit: limit.allows).rule
        blockers.append(Blocker(kind=rule, subject=cluster.name, reason=answer.reason))
    blockers += _immovable_vms(client, cluster, host)
    migrations: dict[str, str] = {}
    if host.powered_on_vms and not cluster.drs.fully_automated:
        if options.evacuation == "drs":
            blockers.append(_drs_blocker(cluster))
        else:
            plan_blockers, migrations = _plan_migrations(cluster, host, blockers)
            blockers += plan_blockers
    return Preflight(
        host=host.name,
        cluster=cluster.name,
        already_in_maintenance=False,
        blockers=blockers,
        migrations=migrations,
        capacity=answer,
    )


def _drs_blocker(cluster: ClusterInfo) -> Blocker:
    mode = cluster.drs.automation if cluster.drs.enabled else "disabled"
    return Blocker(
        kind="drs_not_fully_automated",
        subject=cluster.name,
        reason=f"DRS on cluster {cluster.name} is {mode}, so vCenter will not evacuate the "
        "host; allow the orchestrator to migrate the VMs (evacuation=migrate) or move them",
    )


def _immovable_vms(client: VCenterClient, cluster: ClusterInfo, host: HostInfo) -> list[Blocker]:
    """Powered-on VMs that no other host can run: passthrough, local storage, pinned."""
    vms = host.powered_on_vms
    others = {h.name for h in cluster.hosts if h.name != host.name}
    if not vms or not others:  # a single-host cluster is already refused as such
        return []
    vm_refs = [client.managed_object(vim.VirtualMachine, vm.moid) for vm in vms]
    details = {
        o.obj._moId: props_of(o)
        for o in client.retrieve_objects(
            vm_refs, vim.VirtualMachine, ["datastore", "config.hardware.device"]
        )
    }
    datastores = {ds._moId: ds for d in details.values() for ds in d.get("datastore") or []}
    mounts = {
        o.obj._moId: {m.key._moId for m in props_of(o).get("host") or []}
        for o in client.retrieve_objects(list(datastores.values()), vim.Datastore, ["host", "name"])
    }
    host_moids = {h.name: h.moid for h in cluster.hosts}
    blockers = []
    for vm in vms:
        props = details.get(vm.moid, {})
        reason = _why_immovable(vm.name, props, mounts, others, host_moids, cluster)
        if reason:
            blockers.append(Blocker(kind="vm_cannot_move", subject=vm.name, reason=reason))
    named = {b.subject for b in blockers}
    blockers += _vcenter_migration_checks(
        client, cluster, [vm for vm in vms if vm.name not in named]
    )
    return blockers


def _vcenter_migration_checks(
    client: VCenterClient, cluster: ClusterInfo, vms: list[VmInfo]
) -> list[Blocker]:
    """Ask vCenter (CheckMigrate) about every VM our own rules let move."""
    if not vms or cluster.resource_pool_moid is None:
        return []
    checker = client.content.vmProvisioningChecker
    pool = client.managed_object(vim.ResourcePool, cluster.resource_pool_moid)
    blockers = []
    for vm in vms:
        vm_ref = client.managed_object(vim.VirtualMachine, vm.moid)
        try:
            task = client.call(
                lambda vm_ref=vm_ref: checker.CheckMigrate_Task(vm=vm_ref, pool=pool)
            )
        except (vmodl.fault.MethodNotFound, vmodl.fault.ManagedObjectNotFound):
            log.warning("vcenter.check_migrate.unsupported", cluster=cluster.name)
            return blockers
        info = wait_for_task(client, task, time.monotonic() + CHECK_TIMEOUT_S, CHECK_POLL_S)
        errors = _check_errors(info)
        if errors:
            reason = f"VM {vm.name} cannot migrate, vCenter says: {errors[0]}"
            blockers.append(Blocker(kind="vm_cannot_move", subject=vm.name, reason=reason))
    return blockers


def _check_errors(info: vim.TaskInfo | None) -> list[str]:
    """The first error of each target host, if no target host is free of errors."""
    if info is None or info.state != vim.TaskInfo.State.success:
        return []  # no verdict: the evacuation itself will tell
    results = info.result or []
    if not results or any(not r.error for r in results):
        return []
    return [fault_text(r.error[0]) for r in results]  # pyvmomi unwraps LocalizedMethodFault


def _why_immovable(
    name: str,
    props: dict[str, Any],
    mounts: dict[str, set[str]],
    others: set[str],
    host_moids: dict[str, str],
    cluster: ClusterInfo,
) -> str | None:
    devices = props.get("config.hardware.device") or []
    if any(isinstance(d, vim.vm.device.VirtualPCIPassthrough) for d in devices):
        return f"VM {name} has a PCI passthrough device and cannot be migrated"
    reachable = set(others)
    for ds in props.get("datastore") or []:
        reachable &= {h for h in others if host_moids[h] in mounts.get(ds._moId, set())}
    if not reachable:
        return f"VM {name} is on storage no other host of {cluster.name} mounts (local storage)"
    allowed = cluster.vm_host_pins.get(name)
    if allowed is not None and not reachable & set(allowed):
        return f"VM {name} is pinned by a mandatory VM-host affinity rule to {', '.join(allowed)}"
    return None


def _plan_migrations(
    cluster: ClusterInfo, host: HostInfo, blockers: list[Blocker]
) -> tuple[list[Blocker], dict[str, str]]:
    stuck = {b.subject for b in blockers if b.kind == "vm_cannot_move"}
    movable = [vm_load(vm, host.name) for vm in host.powered_on_vms if vm.name not in stuck]
    targets = [
        _headroom(h) for h in cluster.hosts if h.name != host.name and host_resources(h).available
    ]
    plan = plan_evacuation(movable, targets)
    extra = [
        Blocker(
            kind="no_room",
            subject=name,
            reason=f"VM {name} does not fit on any other available host of {cluster.name}",
        )
        for name in plan.unplaced
    ]
    return extra, plan.moves


def _headroom(host: HostInfo) -> HostHeadroom:
    resources = host_resources(host)
    loads = [vm_load(vm, host.name) for vm in host.powered_on_vms]
    return HostHeadroom(
        name=host.name,
        free_cpu_mhz=resources.cpu_mhz - sum(v.cpu_mhz for v in loads),
        free_memory_mb=resources.memory_mb - sum(v.memory_mb for v in loads),
    )
