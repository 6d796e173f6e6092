"""Enter and exit maintenance mode, both idempotent; every failure says what state the
host is left in, and a timed-out enter is cancelled and reported with its VMs. A retry
follows an enter or exit task already running on the host instead of starting another.
"""

from __future__ import annotations

import time
from contextlib import suppress

from pydantic import Field
from pyVmomi import vim, vmodl

from common.logging import get_logger
from integrations.vcenter.client import VCenterClient, fault_text, props_of, wait_for_task
from integrations.vcenter.errors import (
    MaintenanceBlockedError,
    MaintenanceTimeoutError,
    TaskFailedError,
    VCenterError,
)
from integrations.vcenter.inventory import find_host, host_moid, read_scope
from integrations.vcenter.models import FrozenModel, HostInfo, Inventory
from integrations.vcenter.preflight import MaintenanceOptions, check_host, preflight_enter
from integrations.vcenter.reboot import host_liveness

# The maintenance API in one import: preflight lives in its own module.
__all__ = [
    "MaintenanceOptions",
    "MaintenanceResult",
    "enter_maintenance",
    "exit_maintenance",
    "preflight_enter",
]

log = get_logger(__name__)

CANCEL_GRACE_S = 30.0
ENTER_TASK = "HostSystem.enterMaintenanceMode"
EXIT_TASK = "HostSystem.exitMaintenanceMode"
_UNDER_WAY = (vim.TaskInfo.State.queued, vim.TaskInfo.State.running)


class MaintenanceResult(FrozenModel):
    host: str
    changed: bool
    in_maintenance: bool
    migrated: dict[str, str] = Field(default_factory=dict)


def enter_maintenance(
    client: VCenterClient, host_name: str, options: MaintenanceOptions
) -> MaintenanceResult:
    """Preflight, migrate if the policy says so, enter; cancel cleanly on timeout.

    An enter task already running on the host (an earlier attempt's, whose worker died:
    vCenter carries on without it) is followed to its end, not started a second time."""
    deadline = time.monotonic() + options.timeout_s
    inventory = read_scope(client, host=host_name)
    found, _ = find_host(inventory, host_name)
    running = host_task_under_way(client, found.moid, ENTER_TASK)
    if running is not None:
        log.info("vcenter.maintenance.under_way", host=found.name)
        return _entered(client, running, found.name, options, {}, deadline)
    check = check_host(client, inventory, host_name, options)
    if check.already_in_maintenance:
        log.info("vcenter.maintenance.already", host=check.host)
        return MaintenanceResult(host=check.host, changed=False, in_maintenance=True)
    if check.blockers:
        log.warning("vcenter.maintenance.blocked", host=check.host, blockers=len(check.blockers))
        raise MaintenanceBlockedError(check.host, [b.reason for b in check.blockers])
    host, _ = find_host(inventory, check.host)
    log.info("vcenter.maintenance.enter", host=host.name, migrations=len(check.migrations))
    _migrate(client, inventory, host, check.migrations, deadline, options.poll_s)
    host_ref = client.managed_object(vim.HostSystem, host.moid)
    task = client.call(
        lambda: host_ref.EnterMaintenanceMode_Task(
            timeout=max(1, int(options.timeout_s)), evacuatePoweredOffVms=False
        )
    )
    return _entered(client, task, host.name, options, check.migrations, deadline)


def _entered(
    client: VCenterClient,
    task: vim.Task,
    host_name: str,
    options: MaintenanceOptions,
    migrated: dict[str, str],
    deadline: float,
) -> MaintenanceResult:
    """Follow an enter task to its end: in maintenance, failed, or cancelled at DEADLINE."""
    info = wait_for_task(client, task, deadline, options.poll_s)
    if info is None or (
        info.state == vim.TaskInfo.State.error and isinstance(info.error, vim.fault.Timedout)
    ):
        return _cancelled(client, task, host_name, options, migrated)
    if info.state == vim.TaskInfo.State.error:
        raise TaskFailedError(
            f"entering maintenance on {host_name} failed ({fault_text(info.error)}). "
            f"Host state: {_state_words(client, host_name)}"
        )
    return MaintenanceResult(host=host_name, changed=True, in_maintenance=True, migrated=migrated)


def host_task_under_way(
    client: VCenterClient, host_moid: str, description_id: str
) -> vim.Task | None:
    """A queued or running task of that kind on the host, whoever started it.

    Read from the host's recentTask and, as vcsim fills only that one, the TaskManager's."""
    host_ref = client.managed_object(vim.HostSystem, host_moid)
    found = client.retrieve_objects([host_ref], vim.HostSystem, ["recentTask"])
    tasks = list(props_of(found[0]).get("recentTask") or []) if found else []
    tasks += client.call(lambda: client.content.taskManager.recentTask) or []
    unique = list({task._moId: task for task in tasks}.values())
    paths = ["info.descriptionId", "info.entity", "info.state"]
    for task in client.retrieve_objects(unique, vim.Task, paths):
        info = props_of(task)
        entity = info.get("info.entity")
        if (
            info.get("info.descriptionId") == description_id
            and entity is not None
            and entity._moId == host_moid
            and info.get("info.state") in _UNDER_WAY
        ):
            return task.obj
    return None


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
    host, _ = find_host(read_scope(client, host=host_name), host_name)
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
        host, _ = find_host(read_scope(client, host=host_name), host_name)
    except VCenterError as exc:
        return f"unknown ({exc})"
    return _words(host)


def exit_maintenance(
    client: VCenterClient, host_name: str, timeout_s: float = 900.0, poll_s: float = 0.5
) -> MaintenanceResult:
    moid = host_moid(client, host_name)
    host = host_liveness(client, moid)
    if not host.in_maintenance:
        return MaintenanceResult(host=host_name, changed=False, in_maintenance=False)
    task = host_task_under_way(client, moid, EXIT_TASK)  # an earlier attempt's
    if task is None:
        if host.connection_state != "connected":
            raise TaskFailedError(
                f"{host_name} is {host.connection_state}; it stays in maintenance until it "
                "reconnects"
            )
        host_ref = client.managed_object(vim.HostSystem, moid)
        task = client.call(
            lambda: host_ref.ExitMaintenanceMode_Task(timeout=max(1, int(timeout_s)))
        )
    info = wait_for_task(client, task, time.monotonic() + timeout_s, poll_s)
    if info is None or info.state != vim.TaskInfo.State.success:
        why = f"no result within {timeout_s:g} s" if info is None else fault_text(info.error)
        raise TaskFailedError(
            f"exiting maintenance on {host_name} failed ({why}). "
            f"Host state: {_state_words(client, host_name)}"
        )
    return MaintenanceResult(host=host_name, changed=True, in_maintenance=False)
