"""A maintenance step retried after its worker died: vCenter kept the first attempt's
task running, and the retry follows that task instead of starting a second one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pyVmomi import vim

from integrations.vcenter import (
    MaintenanceOptions,
    MaintenanceTimeoutError,
    VCenterClient,
    enter_maintenance,
    exit_maintenance,
)
from integrations.vcenter.client import props_of
from integrations.vcenter.inventory import host_moid
from integrations.vcenter.maintenance import ENTER_TASK, MaintenanceResult
from simulators.vcsim.harness import VcsimProcess
from tests.integration.vcenter.conftest import settings_for

HOST, TAG = "retry-1.test", "RTY0001"


def start_enter(vcenter: VCenterClient) -> vim.Task:
    """What the first attempt did before its worker was killed."""
    host = vcenter.managed_object(vim.HostSystem, host_moid(vcenter, HOST))
    return vcenter.call(
        lambda: host.EnterMaintenanceMode_Task(timeout=600, evacuatePoweredOffVms=False)
    )


def enter_tasks(vcenter: VCenterClient) -> set[str]:
    """Every enter-maintenance task vCenter has seen on the host."""
    moid = host_moid(vcenter, HOST)
    tasks = {t._moId: t for t in vcenter.call(lambda: vcenter.content.taskManager.recentTask)}
    found = vcenter.retrieve_objects(
        list(tasks.values()), vim.Task, ["info.descriptionId", "info.entity"]
    )
    return {
        task.obj._moId
        for task in found
        if props_of(task)["info.descriptionId"] == ENTER_TASK
        and props_of(task)["info.entity"]._moId == moid
    }


def test_retried_enter_follows_the_running_task(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]
) -> None:
    scenario_vcsim.set_host_faults(TAG, stuck_entering=True)

    # A retry whose step runs out while the first task is still stuck cancels that task;
    # it never starts one of its own.
    stuck = start_enter(vcenter)
    with pytest.raises(MaintenanceTimeoutError):
        enter_maintenance(vcenter, HOST, MaintenanceOptions(timeout_s=1, poll_s=0.1))
    assert enter_tasks(vcenter) == {stuck._moId}

    # A retry while the first task runs returns once that task has put the host in.
    first = start_enter(vcenter)
    result: list[MaintenanceResult] = []

    def retry() -> None:
        with VCenterClient(settings_for(scenario_vcsim, ca_bundle[0])) as own_session:
            result.append(enter_maintenance(own_session, HOST, MaintenanceOptions(poll_s=0.1)))

    retrying = threading.Thread(target=retry)
    retrying.start()
    retrying.join(timeout=1.0)
    assert retrying.is_alive(), "the retry must wait while the host is still entering"
    scenario_vcsim.set_host_faults(TAG, stuck_entering=False)
    retrying.join()
    try:
        assert result and result[0].in_maintenance
        assert enter_tasks(vcenter) == {stuck._moId, first._moId}
    finally:
        exit_maintenance(vcenter, HOST)
