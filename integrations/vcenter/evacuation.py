"""The orchestrator's own evacuation, for clusters whose DRS is not fully automated:
the cluster as the pure planner (domain/evacuation.py) sees it, the vMotions, and the
way back after maintenance.

vMotion is RelocateVM_Task with a target host (MigrateVM_Task is its deprecated
predecessor, and vcsim 0.24 has no MigrateVM_Task). Every step reads where the VMs are
now, so a retry after a worker crash skips what an earlier attempt already moved and
follows a migration still under way instead of starting a second one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import Field
from pyVmomi import vim

from common.logging import get_logger
from domain.capacity import CapacityPolicy
from domain.evacuation import Headroom, MovePlan, PlacementHost, Unmovable, VmToMove, plan_moves
from integrations.vcenter.capacity import host_resources, vm_load
from integrations.vcenter.client import (
    VCenterClient,
    fault_text,
    props_of,
    tasks_under_way,
    wait_for_task,
)
from integrations.vcenter.errors import TaskFailedError
from integrations.vcenter.inventory import find_host, read_scope
from integrations.vcenter.models import ClusterInfo, FrozenModel, HostInfo, VmInfo
from integrations.vcenter.tracing import traced

log = get_logger(__name__)

Moved = Callable[[str, str], None]
"""Told each VM that reached its host (name, host): activities heartbeat it as progress."""


def vms_to_move(client: VCenterClient, cluster: ClusterInfo, vms: list[VmInfo]) -> list[VmToMove]:
    """The planner's view of ``vms``: demand, passthrough devices, hosts that mount
    every one of their datastores (two reads, whatever the number of VMs)."""
    if not vms:
        return []
    refs = [client.managed_object(vim.VirtualMachine, vm.moid) for vm in vms]
    details = {
        o.obj._moId: props_of(o)
        for o in client.retrieve_objects(
            refs, vim.VirtualMachine, ["datastore", "config.hardware.device"]
        )
    }
    datastores = {ds._moId: ds for d in details.values() for ds in d.get("datastore") or []}
    names = {h.moid: h.name for h in cluster.hosts}
    mounts = {
        o.obj._moId: frozenset(names.get(m.key._moId, "") for m in props_of(o).get("host") or [])
        for o in client.retrieve_objects(list(datastores.values()), vim.Datastore, ["host"])
    }
    found = []
    for vm in vms:
        props = details.get(vm.moid, {})
        storage: frozenset[str] | None = None
        for ds in props.get("datastore") or []:
            reach = mounts.get(ds._moId, frozenset())
            storage = reach if storage is None else storage & reach
        devices = props.get("config.hardware.device") or []
        passthrough = any(isinstance(d, vim.vm.device.VirtualPCIPassthrough) for d in devices)
        load = vm_load(vm, vm.host or "")
        found.append(
            VmToMove(
                name=vm.name,
                host=vm.host or "",
                cpu_mhz=load.cpu_mhz,
                memory_mb=load.memory_mb,
                passthrough=passthrough,
                storage_hosts=storage,
            )
        )
    return found


def placement_hosts(cluster: ClusterInfo, receiving: set[str]) -> list[PlacementHost]:
    """Every host of the cluster with its load; only available ones in ``receiving`` take
    VMs. Dedicated HA failover hosts take none (HA admission control keeps them empty)."""
    ha = cluster.ha
    failover = set(ha.failover_hosts) if ha.admission_control_enabled else set()
    hosts = []
    for host in cluster.hosts:
        resources = host_resources(host)
        loads = [vm_load(vm, host.name) for vm in host.powered_on_vms]
        hosts.append(
            PlacementHost(
                name=host.name,
                cpu_mhz=resources.cpu_mhz,
                memory_mb=resources.memory_mb,
                used_cpu_mhz=sum(v.cpu_mhz for v in loads),
                used_memory_mb=sum(v.memory_mb for v in loads),
                vms=frozenset(vm.name for vm in host.powered_on_vms),
                accepts_vms=resources.available and host.name in receiving,
                ha_failover=host.name in failover,
            )
        )
    return hosts


def headroom(cluster: ClusterInfo, policy: CapacityPolicy) -> Headroom:
    """The policy's utilisation cap and HA percentage admission control's reserve."""
    ha = cluster.ha
    percentage = ha.admission_control_enabled and ha.policy == "percentage"
    return Headroom(
        max_utilization_percent=policy.max_utilization_percent,
        cpu_reserved_percent=ha.cpu_failover_percent if percentage else 0,
        memory_reserved_percent=ha.memory_failover_percent if percentage else 0,
    )


def plan_evacuation(
    cluster: ClusterInfo, host: HostInfo, vms: list[VmToMove], policy: CapacityPolicy
) -> MovePlan:
    """Where ``vms`` (of ``host``) go: any other host of the cluster, by the rules."""
    others = {h.name for h in cluster.hosts if h.name != host.name}
    return plan_moves(
        cluster.name,
        vms,
        placement_hosts(cluster, others),
        cluster.host_rules,
        cluster.vm_rules,
        headroom(cluster, policy),
    )


def settle(client: VCenterClient, vms: list[VmInfo], deadline: float, poll_s: float) -> bool:
    """Wait for tasks already running on ``vms`` (an earlier attempt's vMotion); True if
    there were any, so the caller reads the inventory again before planning."""
    refs = [client.managed_object(vim.VirtualMachine, vm.moid) for vm in vms]
    running = tasks_under_way(client, refs, vim.VirtualMachine)
    for found in running:
        log.info("vcenter.migrate.under_way", vm=found.entity, task=found.description_id)
        wait_for_task(client, found.task, deadline, poll_s)
    return bool(running)


def migrate(
    client: VCenterClient,
    cluster: ClusterInfo,
    moves: dict[str, str],
    deadline: float,
    poll_s: float,
    on_moved: Moved | None = None,
) -> None:
    """vMotion VMs one at a time; on failure say which moved and what is left."""
    vms = {vm.name: vm for h in cluster.hosts for vm in h.vms}
    hosts = {h.name: h for h in cluster.hosts}
    done: list[str] = []
    for vm_name, target_name in moves.items():
        vm = client.managed_object(vim.VirtualMachine, vms[vm_name].moid)
        target = client.managed_object(vim.HostSystem, hosts[target_name].moid)
        spec = vim.vm.RelocateSpec(host=target)
        log.info("vcenter.migrate", vm=vm_name, source=vms[vm_name].host, target=target_name)
        task = client.call(lambda vm=vm, spec=spec: vm.RelocateVM_Task(spec))
        info = wait_for_task(client, task, deadline, poll_s)
        if info is None or info.state != vim.TaskInfo.State.success:
            why = "timed out" if info is None else fault_text(info.error)
            raise TaskFailedError(
                f"migrating {vm_name} from {vms[vm_name].host} to {target_name} failed ({why}); "
                f"VMs already moved: {', '.join(done) or 'none'}"
            )
        done.append(vm_name)
        if on_moved is not None:
            on_moved(vm_name, target_name)


class Homecoming(FrozenModel):
    host: str
    returned: list[str] = Field(description="VMs back on the host (already or now)")
    stayed: list[Unmovable] = Field(description="VMs left where they are, with the reason")


@traced("return VMs")
def return_vms(
    client: VCenterClient,
    host_name: str,
    moves: dict[str, str],
    timeout_s: float,
    poll_s: float = 0.5,
    on_moved: Moved | None = None,
) -> Homecoming:
    """Bring VMs we moved off ``host_name`` back to it, by the same rules as the way out.

    Only a VM still on the host we moved it to comes back: one that someone moved since
    was placed on purpose and stays. Idempotent: a VM already home counts as returned."""
    deadline = time.monotonic() + timeout_s
    home, cluster = _home(client, host_name)
    if settle(client, _away(cluster, moves), deadline, poll_s):
        home, cluster = _home(client, host_name)
    where = {vm.name: vm for h in cluster.hosts for vm in h.vms}
    returned = sorted(name for name in moves if name in where and where[name].host == home.name)
    stayed = [
        Unmovable(vm=name, reason=_why_not_back(name, target, where.get(name)))
        for name, target in sorted(moves.items())
        if name not in returned and (name not in where or where[name].host != target)
    ]
    coming = vms_to_move(client, cluster, _away(cluster, moves))
    plan = plan_moves(
        cluster.name,
        coming,
        placement_hosts(cluster, {home.name}),
        cluster.host_rules,
        cluster.vm_rules,
        headroom(cluster, CapacityPolicy()),
    )
    stayed += plan.unmovable
    for vm, target in plan.moves.items():  # one refused vMotion does not keep the rest away
        try:
            migrate(client, cluster, {vm: target}, deadline, poll_s, on_moved)
            returned.append(vm)
        except TaskFailedError as failed:
            stayed.append(Unmovable(vm=vm, reason=str(failed)))
    return Homecoming(
        host=home.name, returned=sorted(returned), stayed=sorted(stayed, key=lambda u: u.vm)
    )


def _home(client: VCenterClient, host_name: str) -> tuple[HostInfo, ClusterInfo]:
    host, cluster = find_host(read_scope(client, host=host_name), host_name)
    if cluster is None or not host.connected or host.in_maintenance:
        state = "in maintenance" if host.in_maintenance else host.connection_state
        raise TaskFailedError(
            f"VMs cannot return to {host.name}: it is {state if cluster else 'not in a cluster'}"
        )
    return host, cluster


def _away(cluster: ClusterInfo, moves: dict[str, str]) -> list[VmInfo]:
    """VMs still on the host we moved them to."""
    return [vm for h in cluster.hosts for vm in h.vms if moves.get(vm.name) == h.name]


def _why_not_back(name: str, target: str, vm: VmInfo | None) -> str:
    if vm is None:
        return f"VM {name} is no longer in the cluster"
    return f"VM {name} was moved from {target} to {vm.host} since; it stays there"
