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
from integrations.vcenter.client import (
    VCenterClient,
    fault_text,
    tasks_under_way,
    wait_for_task,
)
from integrations.vcenter.errors import (
    MaintenanceBlockedError,
    MaintenanceTimeoutError,
    TaskFailedError,
    VCenterError,
)
from integrations.vcenter.evacuation import Moved, migrate, settle
from integrations.vcenter.inventory import find_host, host_moid, read_scope
from integrations.vcenter.models import ClusterInfo, FrozenModel, HostInfo
from integrations.vcenter.preflight import MaintenanceOptions, check_host, preflight_enter
from integrations.vcenter.reboot import host_liveness
from integrations.vcenter.tracing import traced

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


class MaintenanceResult(FrozenModel):
    host: str
    changed: bool
    in_maintenance: bool
    migrated: dict[str, str] = Field(default_factory=dict)


@traced("enter maintenance")
def enter_maintenance(
    client: VCenterClient,
    host_name: str,
    options: MaintenanceOptions,
    on_moved: Moved | None = None,
) -> MaintenanceResult:
    """Preflight, migrate if the policy says so, enter; cancel cleanly on timeout.

    An enter task already running on the host (an earlier attempt's, whose worker died:
    vCenter carries on without it) is followed to its end, not started a second time;
    so is a vMotion of one of its VMs, and VMs already moved are not planned again."""
    deadline = time.monotonic() + options.timeout_s
    inventory = read_scope(client, host=host_name)
    found, cluster = find_host(inventory, host_name)
    running = host_task_under_way(client, found.moid, ENTER_TASK)
    if running is not None:
        log.info("vcenter.maintenance.under_way", host=found.name)
        return _entered(client, running, found.name, options, {}, deadline)
    if _we_migrate(cluster, options) and settle(
        client, found.powered_on_vms, deadline, options.poll_s
    ):
        inventory = read_scope(client, host=host_name)
    check = check_host(client, inventory, host_name, options)
    if check.already_in_maintenance:
        log.info("vcenter.maintenance.already", host=check.host)
        return MaintenanceResult(host=check.host, changed=False, in_maintenance=True)
    if check.blockers:
        log.warning("vcenter.maintenance.blocked", host=check.host, blockers=len(check.blockers))
        raise MaintenanceBlockedError(check.host, [b.reason for b in check.blockers])
    host, cluster = find_host(inventory, check.host)
    log.info("vcenter.maintenance.enter", host=host.name, migrations=len(check.migrations))
    if cluster is not None and check.migrations:
        try:
            migrate(client, cluster, check.migrations, deadline, options.poll_s, on_moved)
        except TaskFailedError as failed:
            raise TaskFailedError(
                f"{failed}. Host state: {_state_words(client, host.name)}"
            ) from None
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
    """A queued or running task of that kind on the host, whoever started it."""
    host_ref = client.managed_object(vim.HostSystem, host_moid)
    for found in tasks_under_way(client, [host_ref], vim.HostSystem):
        if found.description_id == description_id:
            return found.task
    return None


def _we_migrate(cluster: ClusterInfo | None, options: MaintenanceOptions) -> bool:
    """The orchestrator, not DRS, moves this host's VMs."""
    return (
        cluster is not None and not cluster.drs.fully_automated and options.evacuation == "migrate"
    )


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


@traced("exit maintenance")
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
