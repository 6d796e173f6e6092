"""What one reading of the iDRAC says is under way: the retried steps' decisions."""

from __future__ import annotations

from integrations.redfish.host_state import HostState
from integrations.redfish.models import JobInfo, JobStatus, LifecycleStatus
from integrations.redfish.power import ResetSequence, gone_down

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


LC_WRAP_UP = LifecycleStatus(
    ready=False, lc_status="NotReady", server_status="OutOfPOST", status="NotReady"
)


def lc_only(lifecycle: LifecycleStatus) -> HostState:
    return HostState(lifecycle=lifecycle, lc_only=True)


def test_an_lc_only_reading_is_a_transition_and_proves_nothing_about_jobs() -> None:
    """Read LC first: a host in POST or with its LC busy is not settled, whatever its
    power (not read); a staged job absent from such a reading has not started."""
    assert lc_only(IN_POST).under_way() == ["ServerStatus InPOST", "LC NotReady"]
    assert lc_only(LC_WRAP_UP).under_way() == ["LC NotReady"]
    before = reading(jobs=[job("JID_1", JobStatus.SCHEDULED)], lifecycle=IN_POST)
    assert not gone_down(before, lc_only(IN_POST))


def settled_with(*jobs: JobInfo) -> HostState:
    return reading(jobs=list(jobs))


def test_the_reset_sequence_is_proof_only_after_post_then_the_lc_wrap_up() -> None:
    """Stale Ready is an answer from before the reset: settled readings prove the host
    back only after POST, then OutOfPOST with the LC busy, and the jobs finished."""
    done = job("JID_1", JobStatus.COMPLETED)
    sequence = ResetSequence(["JID_1"])
    assert not sequence.observe(settled_with(job("JID_1", JobStatus.SCHEDULED)), settled=True)
    assert not sequence.observe(settled_with(done), settled=True), "no POST seen yet"
    assert not sequence.observe(lc_only(IN_POST), settled=False)
    assert not sequence.observe(settled_with(done), settled=True), "no LC wrap-up seen yet"
    assert not sequence.observe(lc_only(LC_WRAP_UP), settled=False)
    assert not sequence.observe(
        settled_with(job("JID_1", JobStatus.COMPLETED_NEEDS_REBOOT)), settled=True
    ), "a job that needs another restart is not finished"
    assert not sequence.observe(settled_with(), settled=True), "the job must be seen finished"
    assert sequence.observe(settled_with(done), settled=True)


def test_without_jobs_or_server_status_the_sequence_never_proves() -> None:
    nothing = ResetSequence([])
    for state in (lc_only(IN_POST), lc_only(LC_WRAP_UP), settled_with()):
        assert not nothing.observe(state, settled=True)
    generic = ResetSequence(["JID_1"])
    done = job("JID_1", JobStatus.COMPLETED)
    no_status = LifecycleStatus(ready=False)
    for state in (HostState(), lc_only(no_status), settled_with(done)):
        generic.observe(state, settled=False)
    # The silent iDRAC counts as POST, but no OutOfPOST-with-LC-busy was ever reported.
    assert not generic.observe(reading(lifecycle=LifecycleStatus(ready=True), jobs=[done]),
                               settled=True)  # fmt: skip
