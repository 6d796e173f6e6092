"""Every documented job/task state maps to one status (reference §5.3)."""

from __future__ import annotations

import pytest

from integrations.redfish.jobs import job_info
from integrations.redfish.models import JobStatus

DELL_STATES = {
    "New": JobStatus.QUEUED,
    "Scheduling": JobStatus.QUEUED,
    "ReadyForExecution": JobStatus.QUEUED,
    "Waiting": JobStatus.QUEUED,
    "Paused": JobStatus.QUEUED,
    "PendingActivation": JobStatus.QUEUED,
    "Downloaded": JobStatus.QUEUED,
    "Downloading": JobStatus.DOWNLOADING,
    "Scheduled": JobStatus.SCHEDULED,
    "RebootPending": JobStatus.SCHEDULED,
    "Running": JobStatus.RUNNING,
    "Completed": JobStatus.COMPLETED,
    "RebootCompleted": JobStatus.COMPLETED,
    "Failed": JobStatus.FAILED,
    "CompletedWithErrors": JobStatus.FAILED,
    "RebootFailed": JobStatus.FAILED,
    "Unknown": JobStatus.FAILED,
}
TASK_STATES = {
    "New": JobStatus.QUEUED,  # Ironic: New right after SimpleUpdate is not a failure
    "Pending": JobStatus.QUEUED,
    "Suspended": JobStatus.QUEUED,
    "Interrupted": JobStatus.QUEUED,
    "Running": JobStatus.RUNNING,
    "Stopping": JobStatus.RUNNING,
    "Cancelling": JobStatus.RUNNING,
    "Service": JobStatus.RUNNING,
    "Completed": JobStatus.COMPLETED,
    "Killed": JobStatus.FAILED,
    "Exception": JobStatus.FAILED,
    "Cancelled": JobStatus.FAILED,
    "UserIntervention": JobStatus.COMPLETED_NEEDS_REBOOT,
}


@pytest.mark.parametrize(("state", "expected"), DELL_STATES.items())
def test_dell_job_state(state: str, expected: JobStatus) -> None:
    document = {"Id": "JID_1", "JobState": state, "Message": "m", "MessageId": "X"}
    assert job_info("JID_1", document, "dell-job").status is expected


@pytest.mark.parametrize(("state", "expected"), TASK_STATES.items())
def test_task_state_without_dell_oem(state: str, expected: JobStatus) -> None:
    document = {"Id": "7", "TaskState": state, "TaskStatus": "OK", "PercentComplete": 50}
    assert job_info("7", document, "task").status is expected


def test_dell_job_state_wins_over_task_state() -> None:
    """iDRAC shows a Scheduled job as TaskState Starting; the Dell state is precise."""
    task = {
        "TaskState": "Starting",
        "PercentComplete": 0,
        "Oem": {"Dell": {"JobState": "Scheduled", "Message": "Task successfully scheduled.",
                         "MessageId": "IDRAC.2.5.JCP001", "PercentComplete": 0}},
    }  # fmt: skip
    info = job_info("JID_1", task, "task")
    assert (info.status, info.message_id) == (JobStatus.SCHEDULED, "IDRAC.2.5.JCP001")


def test_jobservice_starting_at_zero_percent_is_scheduled() -> None:
    document = {"JobState": "Starting", "JobStatus": "OK", "PercentComplete": 0}
    assert job_info("JID_1", document, "jobservice").status is JobStatus.SCHEDULED


def test_completed_with_critical_status_is_a_failure() -> None:
    """DMTF JobService shows failed iDRAC jobs as Completed + JobStatus Critical."""
    document = {"JobState": "Completed", "JobStatus": "Critical", "PercentComplete": 100}
    assert job_info("JID_1", document, "jobservice").status is JobStatus.FAILED


def test_completed_reboot_pending_needs_a_reboot() -> None:
    document = {
        "JobState": "Completed",
        "Message": "Job completed, server reboot pending In order to apply changes, perform a "
        "virtual A/C power cycle using ResetType 'PowerCycle'.",
    }
    assert job_info("JID_1", document, "dell-job").status is JobStatus.COMPLETED_NEEDS_REBOOT


def test_completed_with_failure_wording_is_a_failure() -> None:
    document = {"JobState": "Completed", "Message": "Unable to apply the update package."}
    assert job_info("JID_1", document, "dell-job").status is JobStatus.FAILED


def test_dmtf_await_to_activate_is_scheduled() -> None:
    document = {
        "TaskState": "Pending",
        "Messages": [{"MessageId": "Update.1.0.AwaitToActivate", "Message": "Awaiting reset"}],
    }
    info = job_info("3", document, "task")
    assert info.status is JobStatus.SCHEDULED and info.message == "Awaiting reset"


def test_unknown_state_keeps_waiting() -> None:
    assert job_info("1", {"TaskState": "Whatever"}, "task").status is JobStatus.RUNNING


def test_no_break_spaces_and_registry_prefixes_are_read_through() -> None:
    """iDRACs join a job's two sentences with a no-break space (DRS #266) and prefix
    MessageIds with their registry (SOI task.json: IDRAC.2.5.JCP001)."""
    document = {
        "Id": "JID_1",
        "JobState": "Completed",
        "Message": "Job completed successfully. Reboot\u00a0pending\u00a0In order to apply",
        "MessageId": "IDRAC.2.9.RED095",
    }
    info = job_info("JID_1", document, "dell-job")
    assert info.status is JobStatus.COMPLETED_NEEDS_REBOOT
    assert info.message == "Job completed successfully. Reboot pending In order to apply"
    awaiting = {"Id": "3", "TaskState": "Running", "Messages": [
        {"MessageId": "Update.1.1.AwaitToActivate", "Message": "Awaiting\u00a0reset."}
    ]}  # fmt: skip
    assert job_info("3", awaiting, "task").status is JobStatus.SCHEDULED


def test_absent_and_empty_fields_are_no_state_and_no_message() -> None:
    """bmclib's Supermicro tasks carry empty-string messages; a bare task has no state."""
    empty = {"Id": "1", "TaskState": "Failed", "Messages": [{"MessageId": "", "Message": ""}]}
    failed = job_info("1", empty, "task")
    assert (failed.status, failed.message, failed.message_id) == (JobStatus.FAILED, None, None)
    bare = job_info("2", {"Id": "2", "Oem": None}, "task")
    assert bare.state is None and bare.status is JobStatus.RUNNING
    assert bare.describe() == "2 running"
