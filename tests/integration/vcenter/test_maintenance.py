"""Maintenance mode on vcsim: evacuation, blockers named before change, timeouts, faults."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from domain.capacity import CapacityPolicy
from integrations.vcenter import (
    MaintenanceBlockedError,
    MaintenanceOptions,
    MaintenanceTimeoutError,
    ReconnectTimeoutError,
    TaskFailedError,
    VCenterClient,
    enter_maintenance,
    exit_maintenance,
    preflight_enter,
    read_inventory,
    wait_for_reboot,
)
from simulators.vcsim.harness import VcsimProcess

FAST = {"poll_s": 0.1}


def _vms_by_host(vcenter: VCenterClient, cluster: str) -> dict[str, list[str]]:
    found = read_inventory(vcenter).cluster(cluster)
    assert found is not None
    return {h.name: [vm.name for vm in h.powered_on_vms] for h in found.hosts}


def _vcenter_now(vcenter: VCenterClient) -> dt.datetime:
    return vcenter.call(lambda: vcenter._service_instance.CurrentTime())


def _in_maintenance(vcenter: VCenterClient, host: str) -> bool:
    found = read_inventory(vcenter).host(host)
    assert found is not None
    return found.in_maintenance


def test_drs_fully_automated_evacuates_and_both_directions_are_idempotent(
    vcenter: VCenterClient,
) -> None:
    before = _vms_by_host(vcenter, "drs-auto")
    leaving = before["drs-auto-1.test"]
    assert leaving  # (other tests may have moved more VMs here)

    entered = enter_maintenance(vcenter, "drs-auto-1.test", MaintenanceOptions(**FAST))
    again = enter_maintenance(vcenter, "drs-auto-1.test", MaintenanceOptions(**FAST))

    assert (entered.changed, entered.in_maintenance) == (True, True)
    assert (again.changed, again.in_maintenance) == (False, True)
    after = _vms_by_host(vcenter, "drs-auto")
    assert after["drs-auto-1.test"] == []
    moved = after["drs-auto-2.test"] + after["drs-auto-3.test"]
    assert sorted(moved) == sorted(leaving + before["drs-auto-2.test"] + before["drs-auto-3.test"])

    left = exit_maintenance(vcenter, "drs-auto-1.test")
    left_again = exit_maintenance(vcenter, "drs-auto-1.test")
    assert (left.changed, left.in_maintenance) == (True, False)
    assert (left_again.changed, left_again.in_maintenance) == (False, False)
    assert not _in_maintenance(vcenter, "drs-auto-1.test")


def test_drs_manual_is_migrated_by_default_and_refused_on_request(vcenter: VCenterClient) -> None:
    with pytest.raises(MaintenanceBlockedError, match="DRS on cluster drs-manual is manual"):
        enter_maintenance(
            vcenter, "drs-manual-1.test", MaintenanceOptions(evacuation="drs", **FAST)
        )
    assert not _in_maintenance(vcenter, "drs-manual-1.test")

    result = enter_maintenance(vcenter, "drs-manual-1.test", MaintenanceOptions(**FAST))
    try:
        assert result.migrated == {"drs-manual-1-vm-0": "drs-manual-2.test"}
        assert _vms_by_host(vcenter, "drs-manual") == {
            "drs-manual-1.test": [],
            "drs-manual-2.test": ["drs-manual-1-vm-0", "drs-manual-2-vm-0"],
        }
        assert _in_maintenance(vcenter, "drs-manual-1.test")
    finally:
        exit_maintenance(vcenter, "drs-manual-1.test")


def test_single_host_cluster_is_refused_with_reason(vcenter: VCenterClient) -> None:
    with pytest.raises(MaintenanceBlockedError) as caught:
        enter_maintenance(vcenter, "single-1.test", MaintenanceOptions(**FAST))
    assert caught.value.blockers == [
        "cluster single has a single host: its VMs have nowhere to run"
    ]
    assert not _in_maintenance(vcenter, "single-1.test")
    (blocker,) = preflight_enter(vcenter, "single-1.test", MaintenanceOptions()).blockers
    assert not blocker.transient, "room never comes: the host must fail, not wait"


def test_vms_that_cannot_move_are_named_before_any_change(vcenter: VCenterClient) -> None:
    before = _vms_by_host(vcenter, "blockers")

    with pytest.raises(MaintenanceBlockedError) as caught:
        enter_maintenance(vcenter, "blockers-1.test", MaintenanceOptions(**FAST))

    assert caught.value.blockers == [
        "VM gpu-vm has a PCI passthrough device and cannot be migrated",
        "VM local-vm is on storage no other host of blockers mounts (local storage)",
        "VM pinned-vm is pinned by a mandatory VM-host affinity rule to blockers-1.test",
    ]
    assert "nothing was changed" in str(caught.value)
    assert _vms_by_host(vcenter, "blockers") == before  # free-vm was not moved either
    assert not _in_maintenance(vcenter, "blockers-1.test")


def test_preflight_reports_a_host_already_in_maintenance_and_a_disconnected_one(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    scenario_vcsim.set_connection("RBT0002", "disconnected")
    try:
        check = preflight_enter(vcenter, "reboot-2.test", MaintenanceOptions())
        assert check.blockers[0].reason == "reboot-2.test is disconnected, not connected"
        with pytest.raises(MaintenanceBlockedError, match="disconnected"):
            enter_maintenance(vcenter, "reboot-2.test", MaintenanceOptions(**FAST))
    finally:
        scenario_vcsim.set_connection("RBT0002", "connected")

    enter_maintenance(vcenter, "reboot-2.test", MaintenanceOptions(**FAST))
    try:
        check = preflight_enter(vcenter, "reboot-2.test", MaintenanceOptions())
        assert (check.already_in_maintenance, check.blockers) == (True, [])
    finally:
        exit_maintenance(vcenter, "reboot-2.test", poll_s=0.1)


def test_stuck_enter_is_cancelled_and_reports_the_vms_left(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    scenario_vcsim.set_host_faults("FLT0001", stuck_entering=True)

    with pytest.raises(MaintenanceTimeoutError) as caught:
        enter_maintenance(vcenter, "faults-1.test", MaintenanceOptions(timeout_s=1, **FAST))

    assert caught.value.vms_on_host == ["faults-1-vm-0"]  # the hung task moved nothing
    assert "the task was cancelled" in str(caught.value)
    assert "not in maintenance" in str(caught.value)
    assert not _in_maintenance(vcenter, "faults-1.test")
    scenario_vcsim.clear_faults()
    assert enter_maintenance(vcenter, "faults-1.test", MaintenanceOptions(**FAST)).changed
    exit_maintenance(vcenter, "faults-1.test")


def test_vm_vcenter_will_not_migrate_is_named_before_any_change(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    """Nothing in the VM's properties says so; vCenter's CheckMigrate does."""
    host = "faults-2.test"
    before = _vms_by_host(vcenter, "faults")
    refusing = before[host]
    assert refusing
    for vm in refusing:
        scenario_vcsim.set_vm_faults(vm, refuse_migration=True)

    with pytest.raises(MaintenanceBlockedError) as caught:
        enter_maintenance(vcenter, host, MaintenanceOptions(timeout_s=1, **FAST))

    assert caught.value.blockers == [
        f"VM {vm} cannot migrate, vCenter says: MigrationFault: migration of {vm} is refused "
        "(fault injected by the test harness)"
        for vm in refusing
    ]
    assert _vms_by_host(vcenter, "faults") == before
    assert not _in_maintenance(vcenter, host)


def test_failed_task_reports_fault_and_host_state(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    scenario_vcsim.set_host_faults("FLT0003", fail_task="enterMaintenanceMode")
    with pytest.raises(TaskFailedError) as caught:
        enter_maintenance(vcenter, "faults-3.test", MaintenanceOptions(**FAST))
    assert "SystemError: injected fault: enterMaintenanceMode fails" in str(caught.value)
    assert "Host state: connected, not in maintenance, 1 powered-on VM(s)" in str(caught.value)

    scenario_vcsim.clear_faults()
    enter_maintenance(vcenter, "faults-3.test", MaintenanceOptions(**FAST))
    scenario_vcsim.set_host_faults("FLT0003", fail_task="exitMaintenanceMode")
    with pytest.raises(TaskFailedError, match="Host state: connected, in maintenance"):
        exit_maintenance(vcenter, "faults-3.test", poll_s=0.1)
    scenario_vcsim.clear_faults()
    exit_maintenance(vcenter, "faults-3.test", poll_s=0.1)


def test_rebooted_host_is_seen_going_away_and_coming_back(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    """The iDRAC simulator's contract: notResponding on reboot, connected when ESXi is up."""
    enter_maintenance(vcenter, "reboot-1.test", MaintenanceOptions(**FAST))
    requested = _vcenter_now(vcenter)
    observed: list[str] = []

    def reboot() -> None:
        time.sleep(0.3)
        scenario_vcsim.set_connection("RBT0001", "notResponding")
        observed.append("down")
        time.sleep(0.5)
        scenario_vcsim.set_connection("RBT0001", "connected")

    rebooting = threading.Thread(target=reboot)
    rebooting.start()
    try:
        seen = wait_for_reboot(
            vcenter, "reboot-1.test", down_timeout_s=30, up_timeout_s=30, poll_s=0.1
        )
    finally:
        rebooting.join()
    assert (seen.went_to, seen.connection_state) == ("notResponding", "connected")
    assert observed == ["down"]
    assert seen.boot_time is not None and seen.boot_time > requested
    exit_maintenance(vcenter, "reboot-1.test", poll_s=0.1)


def test_reboot_whose_absence_was_missed_is_known_by_boot_time(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess
) -> None:
    """The host went and came back before we looked: its new boot time still tells."""
    requested = _vcenter_now(vcenter)
    scenario_vcsim.set_connection("RBT0002", "notResponding")
    scenario_vcsim.set_connection("RBT0002", "connected")

    seen = wait_for_reboot(
        vcenter,
        "reboot-2.test",
        down_timeout_s=5,
        up_timeout_s=5,
        poll_s=0.1,
        rebooted_after=requested,
    )

    assert (seen.went_to, seen.connection_state) == (None, "connected")


def test_host_that_never_goes_away_times_out(vcenter: VCenterClient) -> None:
    with pytest.raises(ReconnectTimeoutError, match=r"did not go away within 0\.3 s"):
        wait_for_reboot(vcenter, "reboot-2.test", down_timeout_s=0.3, up_timeout_s=1, poll_s=0.1)


def test_capacity_blocks_a_second_host(vcenter: VCenterClient) -> None:
    """percent cluster: HA 50 % allows one host; the second is refused before change, and
    its preflight says the refusal lasts only while the first is down (it waits, not fails)."""
    policy = CapacityPolicy(max_concurrent=3)
    enter_maintenance(vcenter, "percent-1.test", MaintenanceOptions(capacity=policy, **FAST))
    try:
        check = preflight_enter(vcenter, "percent-2.test", MaintenanceOptions(capacity=policy))
        assert [(b.reason[:37], b.transient) for b in check.blockers] == [
            ("HA admission control reserves 50% CPU", True)
        ]
        with pytest.raises(MaintenanceBlockedError, match="HA admission control reserves 50%"):
            enter_maintenance(vcenter, "percent-2.test", MaintenanceOptions(capacity=policy))
        assert not _in_maintenance(vcenter, "percent-2.test")
    finally:
        exit_maintenance(vcenter, "percent-1.test")
