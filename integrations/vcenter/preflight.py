"""Preflight: everything that would stop a host from entering maintenance, named
before anything changes: connection, cluster capacity (HA, policy), VMs no other host
can run (our reading of the VM and cluster, then vCenter's CheckMigrate) and, where DRS
is not fully automated, where each VM would go or why it could go nowhere.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field
from pyVmomi import vim, vmodl

from common.logging import get_logger
from domain.capacity import CapacityAnswer, CapacityPolicy, ever_allowed, may_enter_maintenance
from domain.evacuation import MovePlan, VmToMove, why_stuck
from integrations.vcenter.capacity import cluster_facts
from integrations.vcenter.client import VCenterClient, fault_text, wait_for_task
from integrations.vcenter.evacuation import placement_hosts, plan_evacuation, vms_to_move
from integrations.vcenter.inventory import find_host, read_scope
from integrations.vcenter.models import ClusterInfo, FrozenModel, HostInfo, Inventory
from integrations.vcenter.tracing import traced

log = get_logger(__name__)

EvacuationPolicy = Literal["drs", "migrate"]
CHECK_TIMEOUT_S = 60.0
CHECK_POLL_S = 0.2


class MaintenanceOptions(FrozenModel):
    evacuation: EvacuationPolicy = Field(
        default="migrate",
        description="where DRS is not fully automated, migrate: move powered-on VMs "
        "ourselves, by the cluster's capacity and rules (domain/evacuation.py); "
        "drs: refuse instead",
    )
    timeout_s: float = Field(default=3600.0, gt=0)
    poll_s: float = Field(default=0.5, gt=0)
    capacity: CapacityPolicy = Field(default_factory=CapacityPolicy)


class Blocker(FrozenModel):
    kind: str
    subject: str
    reason: str
    transient: bool = Field(
        default=False, description="caused by other hosts being down: room may come back"
    )

    def __str__(self) -> str:
        return self.reason


class Preflight(FrozenModel):
    host: str
    cluster: str | None
    already_in_maintenance: bool
    blockers: list[Blocker]
    migrations: dict[str, str] = Field(description="VM -> target host we would move it to")
    capacity: CapacityAnswer | None


@traced("preflight")
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
    facts = cluster_facts(cluster)
    answer = may_enter_maintenance(facts, options.capacity)
    if answer.may_enter == 0:
        rule = min(answer.limits, key=lambda limit: limit.allows).rule
        blockers.append(
            Blocker(
                kind=rule,
                subject=cluster.name,
                reason=answer.reason,
                transient=ever_allowed(facts, options.capacity),
            )
        )
    vms = vms_to_move(client, cluster, host.powered_on_vms) if len(cluster.hosts) > 1 else []
    blockers += _immovable_vms(client, cluster, vms)
    migrations: dict[str, str] = {}
    if host.powered_on_vms and not cluster.drs.fully_automated:
        if options.evacuation == "drs":
            blockers.append(_drs_blocker(cluster))
        else:
            stuck = {b.subject for b in blockers if b.kind == "vm_cannot_move"}
            movable = [vm for vm in vms if vm.name not in stuck]
            plan = plan_evacuation(cluster, host, movable, options.capacity)
            placeable_later = _placeable_once_all_back(cluster, host, movable, options, plan)
            blockers += [
                Blocker(
                    kind="no_compatible_host",
                    subject=u.vm,
                    reason=u.reason,
                    transient=u.vm in placeable_later,
                )
                for u in plan.unmovable
            ]
            migrations = plan.moves
    return Preflight(
        host=host.name,
        cluster=cluster.name,
        already_in_maintenance=False,
        blockers=blockers,
        migrations=migrations,
        capacity=answer,
    )


def _placeable_once_all_back(
    cluster: ClusterInfo,
    host: HostInfo,
    vms: list[VmToMove],
    options: MaintenanceOptions,
    plan: MovePlan,
) -> set[str]:
    """VMs with nowhere to go only because other hosts are down now (in maintenance for
    this very campaign, say): the host waits for them rather than failing."""
    if not plan.unmovable:
        return set()
    back = [
        h.model_copy(update={"connection_state": "connected", "in_maintenance": False})
        for h in cluster.hosts
    ]
    whole = plan_evacuation(cluster.model_copy(update={"hosts": back}), host, vms, options.capacity)
    return {u.vm for u in plan.unmovable} - {u.vm for u in whole.unmovable}


def _drs_blocker(cluster: ClusterInfo) -> Blocker:
    mode = cluster.drs.automation if cluster.drs.enabled else "disabled"
    return Blocker(
        kind="drs_not_fully_automated",
        subject=cluster.name,
        reason=f"DRS on cluster {cluster.name} is {mode}, so vCenter will not evacuate the "
        "host; allow the orchestrator to migrate the VMs (evacuation=migrate) or move them",
    )


def _immovable_vms(
    client: VCenterClient, cluster: ClusterInfo, vms: list[VmToMove]
) -> list[Blocker]:
    """Powered-on VMs that no other host can run: passthrough, local storage, pinned by
    a mandatory rule; then what vCenter's CheckMigrate says about the others."""
    hosts = placement_hosts(cluster, set())
    blockers = []
    for vm in vms:
        reason = why_stuck(vm, hosts, cluster.host_rules, cluster.name)
        if reason:
            blockers.append(Blocker(kind="vm_cannot_move", subject=vm.name, reason=reason))
    named = {b.subject for b in blockers}
    vm_moids = {vm.name: vm.moid for h in cluster.hosts for vm in h.vms}
    blockers += _vcenter_migration_checks(
        client, cluster, [(vm.name, vm_moids[vm.name]) for vm in vms if vm.name not in named]
    )
    return blockers


def _vcenter_migration_checks(
    client: VCenterClient, cluster: ClusterInfo, vms: list[tuple[str, str]]
) -> list[Blocker]:
    """Ask vCenter (CheckMigrate) about every VM our own rules let move."""
    if not vms or cluster.resource_pool_moid is None:
        return []
    checker = client.content.vmProvisioningChecker
    pool = client.managed_object(vim.ResourcePool, cluster.resource_pool_moid)
    blockers = []
    for name, moid in vms:
        vm_ref = client.managed_object(vim.VirtualMachine, moid)
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
            reason = f"VM {name} cannot migrate, vCenter says: {errors[0]}"
            blockers.append(Blocker(kind="vm_cannot_move", subject=name, reason=reason))
    return blockers


def _check_errors(info: vim.TaskInfo | None) -> list[str]:
    """The first error of each target host, if no target host is free of errors."""
    if info is None or info.state != vim.TaskInfo.State.success:
        return []  # no verdict: the evacuation itself will tell
    results = info.result or []
    if not results or any(not r.error for r in results):
        return []
    return [fault_text(r.error[0]) for r in results]  # pyvmomi unwraps LocalizedMethodFault
