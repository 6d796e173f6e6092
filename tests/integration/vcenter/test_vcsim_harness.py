"""What the harness adds to vcsim, seen through the plain vSphere API and its control
endpoint (the iDRAC simulator depends on the connection contract)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from pyVmomi import vim, vmodl

from integrations.vcenter import VCenterClient, read_inventory
from simulators.vcsim.harness import VcsimError, VcsimProcess


def _post(process: VcsimProcess, path: str, body: bytes) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(process.control_url + path, data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_connection_contract(scenario_vcsim: VcsimProcess, vcenter: VCenterClient) -> None:
    status, body = _post(scenario_vcsim, "/hosts/RBT0002/connection", b'{"state": "disconnected"}')
    assert (status, body) == (200, {"host": "reboot-2.test", "state": "disconnected"})
    host = read_inventory(vcenter).host("RBT0002")
    assert host is not None
    assert (host.connection_state, host.power_state) == ("disconnected", "unknown")
    assert _post(scenario_vcsim, "/hosts/RBT0002/connection", b'{"state": "connected"}')[0] == 200
    host = read_inventory(vcenter).host("RBT0002")
    assert host is not None
    assert (host.connection_state, host.power_state) == ("connected", "poweredOn")


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/hosts/NOPE123/connection", b'{"state": "connected"}', 404, "no host with service tag"),
        ("/hosts/RBT0002/connection", b'{"state": "rebooting"}', 400, "state must be connected"),
        ("/hosts/RBT0002/connection", b"not json", 400, "body must be JSON"),
        ("/vms/no-such-vm/faults", b'{"refuse_migration": true}', 404, "no VM named"),
    ],
)
def test_control_endpoint_names_bad_requests(
    scenario_vcsim: VcsimProcess, path: str, body: bytes, status: int, error: str
) -> None:
    got, answer = _post(scenario_vcsim, path, body)
    assert got == status
    assert error in answer["error"]


def test_harness_raises_on_a_rejected_call(scenario_vcsim: VcsimProcess) -> None:
    with pytest.raises(VcsimError, match="404"):
        scenario_vcsim.set_connection("NOPE123", "connected")


def test_drs_leaves_a_refusing_vm_and_the_task_runs_until_cancelled(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    """Straight through the vSphere API, past our preflight: vCenter's own behaviour."""
    inventory = read_inventory(vcenter)
    host = inventory.host("harness-1.test")
    assert host is not None and host.powered_on_vms
    stays = host.powered_on_vms[0].name
    scenario_vcsim.set_vm_faults(stays, refuse_migration=True)
    task = vcenter.managed_object(vim.HostSystem, host.moid).EnterMaintenanceMode_Task(timeout=0)

    time.sleep(0.5)  # several evacuation rounds of the simulator
    assert task.info.state == vim.TaskInfo.State.running
    task.CancelTask()
    deadline = time.monotonic() + 10
    while task.info.state == vim.TaskInfo.State.running and time.monotonic() < deadline:
        time.sleep(0.05)

    assert task.info.state == vim.TaskInfo.State.error
    assert isinstance(task.info.error, vmodl.fault.RequestCanceled)
    after = read_inventory(vcenter).host("harness-1.test")
    assert after is not None and not after.in_maintenance
    assert [vm.name for vm in after.powered_on_vms] == [stays]
