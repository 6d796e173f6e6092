"""Maintenance mode: preflight that names blockers, enter, exit, wait for a reboot.

Every operation is idempotent (asking for the state a host is already in succeeds
without a change), and every failure says what state the host is left in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
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
from integrations.vcenter.errors import (
    MaintenanceBlockedError,
    MaintenanceTimeoutError,
    NotFoundError,
    ReconnectTimeoutError,
    TaskFailedError,
    VCenterError,
)
from integrations.vcenter.inventory import read_inventory
from integrations.vcenter.models import ClusterInfo, HostInfo, Inventory, VmInfo

log = get_logger(__name__)

EvacuationPolicy = Literal["drs", "migrate"]
CANCEL_GRACE_S = 30.0
CHECK_TIMEOUT_S = 60.0
CHECK_POLL_S = 0.2


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MaintenanceOptions(_Model):
    evacuation: EvacuationPolicy = Field(
        default="drs",
        description="drs: refuse unless DRS is fully automated; "
        "migrate: move powered-on VMs ourselves, to hosts chosen by headroom",
    )
    timeout_s: float = Field(default=3600.0, gt=0)
    poll_s: float = Field(default=0.5, gt=0)
    capacity: CapacityPolicy = Field(default_factory=CapacityPolicy)


class Blocker(_Model):
    kind: str
    subject: str
    reason: str

    def __str__(self) -> str:
        return self.reason


class Preflight(_Model):
    host: str
    cluster: str | None
    already_in_maintenance: bool
    blockers: list[Blocker]
    migrations: dict[str, str] = Field(description="VM -> target host we would move it to")
    capacity: CapacityAnswer | None


class MaintenanceResult(_Model):
    host: str
    changed: bool
    in_maintenance: bool
    migrated: dict[str, str] = Field(default_factory=dict)


class RebootObservation(_Model):
    host: str
    went_to: str | None = Field(
        description="state seen while the host was away; None if only its boot time told"
    )
    connection_state: str
    boot_time: datetime | None


def _find(inventory: Inventory, name: str) -> tuple[HostInfo, ClusterInfo | None]:
    host = inventory.host(name)
    if host is None:
        raise NotFoundError(f"no host named {name!r} (host name or service tag)")
    return host, inventory.cluster_of(host)


def preflight_enter(
    client: VCenterClient, host_name: str, options: MaintenanceOptions
) -> Preflight:
    """Everything that would stop ``host_name`` from entering maintenance, before any change."""
    return _preflight(client, read_inventory(client), host_name, options)


def _preflight(
    client: VCenterClient, inventory: Inventory, host_name: str, options: MaintenanceOptions
) -> Preflight:
    host, cluster = _find(inventory, host_name)
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


def enter_maintenance(
    client: VCenterClient, host_name: str, options: MaintenanceOptions
) -> MaintenanceResult:
    """Preflight, migrate if the policy says so, enter; cancel cleanly on timeout."""
    deadline = time.monotonic() + options.timeout_s
    inventory = read_inventory(client)
    check = _preflight(client, inventory, host_name, options)
    if check.already_in_maintenance:
        log.info("vcenter.maintenance.already", host=check.host)
        return MaintenanceResult(host=check.host, changed=False, in_maintenance=True)
    if check.blockers:
        log.warning("vcenter.maintenance.blocked", host=check.host, blockers=len(check.blockers))
        raise MaintenanceBlockedError(check.host, [b.reason for b in check.blockers])
    host, _ = _find(inventory, check.host)
    log.info("vcenter.maintenance.enter", host=host.name, migrations=len(check.migrations))
    _migrate(client, inventory, host, check.migrations, deadline, options.poll_s)
    host_ref = client.managed_object(vim.HostSystem, host.moid)
    task = client.call(
        lambda: host_ref.EnterMaintenanceMode_Task(
            timeout=max(1, int(options.timeout_s)), evacuatePoweredOffVms=False
        )
    )
    info = wait_for_task(client, task, deadline, options.poll_s)
    if info is None or (
        info.state == vim.TaskInfo.State.error and isinstance(info.error, vim.fault.Timedout)
    ):
        return _cancelled(client, task, host.name, options, check.migrations)
    if info.state == vim.TaskInfo.State.error:
        raise TaskFailedError(
            f"entering maintenance on {host.name} failed ({fault_text(info.error)}). "
            f"Host state: {_state_words(client, host.name)}"
        )
    return MaintenanceResult(
        host=host.name, changed=True, in_maintenance=True, migrated=check.migrations
    )


def _migrate(
    client: VCenterClient,
    inventory: Inventory,
    host: HostInfo,
    moves: dict[str, str],
    deadline: float,
    poll_s: float,
) -> None:
    """Relocate VMs one at a time; on failure say which moved and what is left."""
    vm_moids = {vm.name: vm.moid for vm in host.vms}
    done: list[str] = []
    for vm_name, target_name in moves.items():
        target = inventory.host(target_name)
        assert target is not None  # planned from this inventory's cluster
        vm = client.managed_object(vim.VirtualMachine, vm_moids[vm_name])
        spec = vim.vm.RelocateSpec(host=client.managed_object(vim.HostSystem, target.moid))
        task = client.call(lambda vm=vm, spec=spec: vm.RelocateVM_Task(spec))
        info = wait_for_task(client, task, deadline, poll_s)
        if info is None or info.state != vim.TaskInfo.State.success:
            why = "timed out" if info is None else fault_text(info.error)
            moved = ", ".join(done) or "none"
            raise TaskFailedError(
                f"migrating {vm_name} off {host.name} to {target_name} failed ({why}); "
                f"VMs already moved: {moved}. Host state: {_state_words(client, host.name)}"
            )
        done.append(vm_name)


def _cancelled(
    client: VCenterClient,
    task: vim.Task,
    host_name: str,
    options: MaintenanceOptions,
    migrated: dict[str, str],
) -> MaintenanceResult:
    """Cancel a timed-out enter task and report what it left behind."""
    log.warning("vcenter.maintenance.cancel", host=host_name, timeout_s=options.timeout_s)
    with suppress(vim.fault.InvalidState, vmodl.fault.NotSupported):
        client.call(task.CancelTask)  # may have just finished: the read below tells how
    wait_for_task(client, task, time.monotonic() + CANCEL_GRACE_S, options.poll_s)
    host, _ = _find(read_inventory(client), host_name)
    if host.in_maintenance:  # it finished while we were cancelling
        return MaintenanceResult(
            host=host.name, changed=True, in_maintenance=True, migrated=migrated
        )
    raise MaintenanceTimeoutError(
        host.name, options.timeout_s, [vm.name for vm in host.powered_on_vms], _words(host)
    )


def _words(host: HostInfo) -> str:
    mode = "in maintenance" if host.in_maintenance else "not in maintenance"
    return f"{host.connection_state}, {mode}, {len(host.powered_on_vms)} powered-on VM(s)"


def _state_words(client: VCenterClient, host_name: str) -> str:
    try:
        host, _ = _find(read_inventory(client), host_name)
    except VCenterError as exc:
        return f"unknown ({exc})"
    return _words(host)


def exit_maintenance(
    client: VCenterClient, host_name: str, timeout_s: float = 900.0, poll_s: float = 0.5
) -> MaintenanceResult:
    host, _ = _find(read_inventory(client), host_name)
    if not host.in_maintenance:
        return MaintenanceResult(host=host.name, changed=False, in_maintenance=False)
    if not host.connected:
        raise TaskFailedError(
            f"{host.name} is {host.connection_state}; it stays in maintenance until it reconnects"
        )
    host_ref = client.managed_object(vim.HostSystem, host.moid)
    task = client.call(lambda: host_ref.ExitMaintenanceMode_Task(timeout=max(1, int(timeout_s))))
    info = wait_for_task(client, task, time.monotonic() + timeout_s, poll_s)
    if info is None or info.state != vim.TaskInfo.State.success:
        why = f"no result within {timeout_s:g} s" if info is None else fault_text(info.error)
        raise TaskFailedError(
            f"exiting maintenance on {host.name} failed ({why}). "
            f"Host state: {_state_words(client, host.name)}"
        )
    return MaintenanceResult(host=host.name, changed=True, in_maintenance=False)


class HostLiveness(_Model):
    connection_state: str
    boot_time: datetime | None


def host_liveness(client: VCenterClient, host_moid: str) -> HostLiveness:
    host_ref = client.managed_object(vim.HostSystem, host_moid)
    paths = ["runtime.connectionState", "runtime.bootTime"]
    found = client.retrieve_objects([host_ref], vim.HostSystem, paths)
    props = props_of(found[0]) if found else {}
    return HostLiveness(
        connection_state=str(props.get("runtime.connectionState") or "unknown"),
        boot_time=props.get("runtime.bootTime"),
    )


def wait_for_reboot(
    client: VCenterClient,
    host_name: str,
    *,
    down_timeout_s: float,
    up_timeout_s: float,
    poll_s: float = 1.0,
    rebooted_after: datetime | None = None,
) -> RebootObservation:
    """Wait for the host to drop (notResponding/disconnected), then to be connected again.

    With ``rebooted_after`` (when the reboot was requested), a host already back with
    a later boot time counts as rebooted even though its absence was not seen.
    """
    host, _ = _find(read_inventory(client), host_name)

    def away_or_rebooted(now: HostLiveness) -> bool:
        return now.connection_state != "connected" or _booted_since(now, rebooted_after)

    first = _poll_until(client, host, away_or_rebooted, down_timeout_s, poll_s, "go away")
    went_to = None if first.connection_state == "connected" else first.connection_state
    back = _poll_until(
        client,
        host,
        lambda now: now.connection_state == "connected",
        up_timeout_s,
        poll_s,
        "come back",
    )
    return RebootObservation(
        host=host.name, went_to=went_to, connection_state="connected", boot_time=back.boot_time
    )


def _booted_since(now: HostLiveness, since: datetime | None) -> bool:
    return since is not None and now.boot_time is not None and now.boot_time > since


def _poll_until(
    client: VCenterClient,
    host: HostInfo,
    done: Callable[[HostLiveness], bool],
    timeout_s: float,
    poll_s: float,
    what: str,
) -> HostLiveness:
    deadline = time.monotonic() + timeout_s
    while True:
        now = host_liveness(client, host.moid)
        if done(now):
            return now
        if time.monotonic() >= deadline:
            raise ReconnectTimeoutError(
                f"{host.name} did not {what} within {timeout_s:g} s "
                f"(connection state: {now.connection_state})"
            )
        time.sleep(poll_s)
