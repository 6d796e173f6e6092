"""What one reading of the iDRAC says is under way: the retried steps' decisions."""

from __future__ import annotations

from integrations.redfish.host_state import HostState
from integrations.redfish.models import JobInfo, JobStatus, LifecycleStatus
from integrations.redfish.power import gone_down

READY = LifecycleStatus(ready=True, lc_status="Ready", server_status="OutOfPOST", status="Ready")
IN_POST = LifecycleStatus(
    ready=False, lc_status="NotReady", server_status="InPOST", status="NotReady"
)


def job(job_id: str, status: JobStatus) -> JobInfo:
    return JobInfo(job_id=job_id, status=status, state=status.value)


def test_staged_jobs_alone_wait_for_a_reboot_and_are_not_under_way() -> None:
    state = HostState(
        power_state="On",
        health="OK",
        lifecycle=READY,
        jobs=[job("JID_1", JobStatus.SCHEDULED), job("JID_0", JobStatus.COMPLETED)],
    )
    assert state.under_way() == []
    assert [j.job_id for j in state.waiting_for_reboot] == ["JID_1"]
    assert state.healthy and state.describe() == "power On, health OK, LC ready"


def test_a_pending_reboot_job_is_a_reboot_under_way_not_firmware_to_apply() -> None:
    state = HostState(
        power_state="On",
        health="OK",
        lifecycle=READY,
        jobs=[job("RID_9", JobStatus.SCHEDULED), job("JID_1", JobStatus.SCHEDULED)],
    )
    assert state.under_way() == ["RID_9 scheduled"]
    assert [j.job_id for j in state.waiting_for_reboot] == ["JID_1"]


def test_post_with_power_on_is_a_transition() -> None:
    state = HostState(
        power_state="On", health="OK", lifecycle=IN_POST, jobs=[job("JID_1", JobStatus.RUNNING)]
    )
    assert state.under_way() == ["ServerStatus InPOST", "LC NotReady", "JID_1 running"]
    assert not state.healthy
    assert state.describe() == "power On, health OK, LC NotReady, ServerStatus InPOST"


def test_a_silent_idrac_is_a_transition_and_a_generic_bmc_needs_no_server_status() -> None:
    assert HostState().under_way() == ["iDRAC not answering"]
    generic = HostState(power_state="On", health="OK", lifecycle=LifecycleStatus(ready=True))
    assert generic.under_way() == [] and generic.healthy


def test_critical_with_the_lc_ready_is_settled_and_unhealthy() -> None:
    state = HostState(power_state="On", health="Critical", lifecycle=READY)
    assert state.under_way() == [] and not state.healthy


def reading(**fields: object) -> HostState:
    return HostState.model_validate({"power_state": "On", "health": "OK", "lifecycle": READY,
                                     **fields})  # fmt: skip


def test_without_last_reset_time_post_or_the_lc_prove_a_warm_restart() -> None:
    """iDRAC9 4.x/5.x: no LastResetTime, and a warm restart keeps PowerState On."""
    before = reading()
    assert not gone_down(before, reading())
    assert gone_down(before, reading(lifecycle=IN_POST))
    assert not gone_down(before, HostState()), "a silent iDRAC proves nothing"


def test_a_staged_job_starting_proves_the_restart() -> None:
    before = reading(jobs=[job("JID_1", JobStatus.SCHEDULED)])
    assert not gone_down(before, reading(jobs=[job("JID_1", JobStatus.SCHEDULED)]))
    assert gone_down(before, reading(jobs=[job("JID_1", JobStatus.RUNNING)]))


def test_boot_progress_counts_as_a_change_never_as_a_level() -> None:
    """bmclib's Supermicro X13 rests at SystemHardwareInitializationComplete with the OS
    up: only leaving OSRunning, or a new LastStateTime, is proof."""
    running = reading(boot_state="OSRunning", boot_state_time="t1")
    assert gone_down(running, reading(boot_state="OSBootStarted", boot_state_time="t2"))
    assert gone_down(running, reading(boot_state="OSRunning", boot_state_time="t3"))
    assert not gone_down(running, reading(boot_state="OSRunning", boot_state_time="t1"))
    resting = reading(boot_state="SystemHardwareInitializationComplete")
    assert not gone_down(resting, reading(boot_state="SystemHardwareInitializationComplete"))
