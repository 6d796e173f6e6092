"""The orchestrator's own evacuation on vcsim, with DRS manual and DRS off: targets by
the cluster's capacity and rules, VMs that cannot move named before any change, a retry
after a crash mid-evacuation, and the VMs brought back after maintenance."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from integrations.vcenter import (
    MaintenanceBlockedError,
    MaintenanceOptions,
    VCenterClient,
    enter_maintenance,
    exit_maintenance,
    preflight_enter,
    read_inventory,
    return_vms,
)
from integrations.vcenter.client import wait_for_task

FAST = MaintenanceOptions(poll_s=0.1)
LEAVING = ["big", "db-0", "web-0", "web-1"]


def _placement(vcenter: VCenterClient, cluster: str) -> dict[str, list[str]]:
    found = read_inventory(vcenter).cluster(cluster)
    assert found is not None
    return {h.name: [vm.name for vm in h.powered_on_vms] for h in found.hosts}


def _refs(vcenter: VCenterClient, kind: type, names: list[str]) -> list[object]:
    inventory = read_inventory(vcenter)
    if kind is vim.HostSystem:
        moids = [inventory.host(name).moid for name in names]  # type: ignore[union-attr]
    else:
        vms = {vm.name: vm.moid for h in inventory.hosts() for vm in h.vms}
        moids = [vms[name] for name in names]
    return [vcenter.managed_object(kind, moid) for moid in moids]


def _reconfigure(vcenter: VCenterClient, cluster: str, spec: vim.cluster.ConfigSpecEx) -> None:
    found = read_inventory(vcenter).cluster(cluster)
    assert found is not None
    ref = vcenter.managed_object(vim.ClusterComputeResource, found.moid)
    task = vcenter.call(lambda: ref.ReconfigureComputeResource_Task(spec, True))
    info = wait_for_task(vcenter, task, float("inf"), 0.1)
    assert info is not None and info.state == "success"


def _add_rules(vcenter: VCenterClient) -> None:
    """As an administrator would, through the vSphere API: web-0 and resident-3 apart,
    db-0 should run on manual-2."""
    groups = [
        vim.cluster.GroupSpec(
            operation="add",
            info=vim.cluster.VmGroup(name="db", vm=_refs(vcenter, vim.VirtualMachine, ["db-0"])),
        ),
        vim.cluster.GroupSpec(
            operation="add",
            info=vim.cluster.HostGroup(
                name="db-hosts", host=_refs(vcenter, vim.HostSystem, ["manual-2.test"])
            ),
        ),
    ]
    _reconfigure(vcenter, "manual", vim.cluster.ConfigSpecEx(groupSpec=groups))
    rules = [
        vim.cluster.RuleSpec(
            operation="add",
            info=vim.cluster.AntiAffinityRuleSpec(
                name="spread-web",
                enabled=True,
                vm=_refs(vcenter, vim.VirtualMachine, ["web-0", "resident-3"]),
            ),
        ),
        vim.cluster.RuleSpec(
            operation="add",
            info=vim.cluster.VmHostRuleInfo(
                name="db-on-2",
                enabled=True,
                mandatory=False,
                vmGroupName="db",
                affineHostGroupName="db-hosts",
            ),
        ),
    ]
    _reconfigure(vcenter, "manual", vim.cluster.ConfigSpecEx(rulesSpec=rules))


def _relocate(vcenter: VCenterClient, vm: str, host: str) -> None:
    ref = _refs(vcenter, vim.VirtualMachine, [vm])[0]
    spec = vim.vm.RelocateSpec(host=_refs(vcenter, vim.HostSystem, [host])[0])
    task = vcenter.call(lambda: ref.RelocateVM_Task(spec))  # type: ignore[attr-defined]
    info = wait_for_task(vcenter, task, float("inf"), 0.1)
    assert info is not None and info.state == "success"


class WorkerDied(Exception):
    """Stands in for a worker killed between two vMotions: no real part can be made to
    die at exactly that point, and what matters is the state it leaves in vCenter."""


def test_drs_manual_plans_by_rules_survives_a_crash_and_brings_the_vms_back(
    vcenter: VCenterClient,
) -> None:
    _add_rules(vcenter)
    before = _placement(vcenter, "manual")
    assert before["manual-1.test"] == LEAVING

    check = preflight_enter(vcenter, "manual-1.test", FAST)
    # Largest first, most free memory first; db-0 honours its "should" rule, web-0 may
    # not join resident-3, and manual-4 (HA's dedicated failover host) takes nothing.
    expected = {
        "big": "manual-3.test",
        "db-0": "manual-2.test",
        "web-0": "manual-2.test",
        "web-1": "manual-3.test",
    }
    assert (check.blockers, check.migrations) == ([], expected)

    moved: dict[str, str] = {}

    def dies_after_first(vm: str, host: str) -> None:
        moved[vm] = host
        raise WorkerDied

    with pytest.raises(WorkerDied):
        enter_maintenance(vcenter, "manual-1.test", FAST, dies_after_first)
    assert moved == {"big": "manual-3.test"}
    assert _placement(vcenter, "manual")["manual-1.test"] == ["db-0", "web-0", "web-1"]

    retried = enter_maintenance(vcenter, "manual-1.test", FAST, moved.__setitem__)
    assert retried.in_maintenance and retried.migrated == {
        vm: host for vm, host in expected.items() if vm != "big"
    }
    assert moved == expected
    after = _placement(vcenter, "manual")
    assert after == {
        "manual-1.test": [],
        "manual-2.test": ["db-0", "resident-2", "web-0"],
        "manual-3.test": ["big", "resident-3", "web-1"],
        "manual-4.test": [],
    }

    exit_maintenance(vcenter, "manual-1.test", poll_s=0.1)
    back = return_vms(vcenter, "manual-1.test", moved, timeout_s=60, poll_s=0.1)
    assert (back.returned, back.stayed) == (LEAVING, [])
    assert _placement(vcenter, "manual") == before
    again = return_vms(vcenter, "manual-1.test", moved, timeout_s=60, poll_s=0.1)
    assert (again.returned, again.stayed) == (LEAVING, [])


def test_drs_off_names_what_cannot_move_before_any_change_and_evacuates_the_rest(
    vcenter: VCenterClient,
) -> None:
    before = _placement(vcenter, "drs-off")

    with pytest.raises(MaintenanceBlockedError) as local:
        enter_maintenance(vcenter, "drs-off-1.test", FAST)
    assert local.value.blockers == [
        "VM local-db is on storage no other host of drs-off mounts (local storage)"
    ]
    with pytest.raises(MaintenanceBlockedError) as huge:
        enter_maintenance(vcenter, "drs-off-2.test", FAST)
    assert huge.value.blockers == [
        "VM huge does not fit on any other host of drs-off: it needs 0 MHz CPU and 30720 MB "
        "memory within a host's headroom"
    ]
    assert _placement(vcenter, "drs-off") == before  # app-1 was not moved either

    entered = enter_maintenance(vcenter, "drs-off-3.test", FAST)
    assert entered.migrated == {"app-3": "drs-off-1.test"}  # 20 GB free there, 2 on -2
    assert _placement(vcenter, "drs-off")["drs-off-3.test"] == []
    # Read while -3 is down, as a campaign's queue reads the next host: what only -3's
    # absence blocks makes a host wait for it, local storage never changes. -3 stands
    # empty while down, so huge might fit there once it is back: -2 waits too, and its
    # entry (the check above, on the cluster as it is then) has the last word.
    waits = preflight_enter(vcenter, "drs-off-1.test", FAST).blockers
    assert sorted((b.subject, b.transient) for b in waits) == [
        ("app-1", True),
        ("app-3", True),
        ("drs-off", True),  # the policy's one host at a time
        ("local-db", False),
    ]
    waits = preflight_enter(vcenter, "drs-off-2.test", FAST).blockers
    assert sorted((b.subject, b.transient) for b in waits) == [
        ("drs-off", True),
        ("huge", True),
    ]

    exit_maintenance(vcenter, "drs-off-3.test", poll_s=0.1)
    back = return_vms(vcenter, "drs-off-3.test", entered.migrated, timeout_s=60, poll_s=0.1)
    assert (back.returned, back.stayed) == (["app-3"], [])
    assert _placement(vcenter, "drs-off") == before

    # Once more, and someone moves app-3 elsewhere while the host is in maintenance:
    # that placement was deliberate, so it stays.
    entered = enter_maintenance(vcenter, "drs-off-3.test", FAST)
    _relocate(vcenter, "app-3", "drs-off-2.test")
    exit_maintenance(vcenter, "drs-off-3.test", poll_s=0.1)
    back = return_vms(vcenter, "drs-off-3.test", entered.migrated, timeout_s=60, poll_s=0.1)
    assert back.returned == []
    assert [str(u) for u in back.stayed] == [
        "VM app-3 was moved from drs-off-1.test to drs-off-2.test since; it stays there"
    ]
    assert "app-3" in _placement(vcenter, "drs-off")["drs-off-2.test"]
