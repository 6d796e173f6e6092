"""One status model for Redfish tasks, Dell jobs and DMTF JobService jobs.

Every documented state (reference §5.3) maps to a JobStatus. Dell's own JobState is
preferred when a task carries it, because TaskState loses detail (Dell "Scheduled" is
TaskState "Starting"). Success is never read from the state alone: JobStatus Critical,
CompletedWithErrors and failure wording all mean failed; "reboot pending" wording and
TaskState UserIntervention mean the update applied but needs a reboot.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.redfish.errors import message_id_suffix, plain_text
from integrations.redfish.models import JobInfo, JobStatus

_STATES: dict[str, JobStatus] = {
    # Dell DellJob JobState
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
    # DMTF TaskState / JobState
    "Pending": JobStatus.QUEUED,
    "Starting": JobStatus.QUEUED,
    "Suspended": JobStatus.QUEUED,
    "Interrupted": JobStatus.QUEUED,
    "Stopping": JobStatus.RUNNING,
    "Cancelling": JobStatus.RUNNING,
    "Service": JobStatus.RUNNING,
    "Continue": JobStatus.RUNNING,
    "Killed": JobStatus.FAILED,
    "Exception": JobStatus.FAILED,
    "Cancelled": JobStatus.FAILED,
    "UserIntervention": JobStatus.COMPLETED_NEEDS_REBOOT,
}
_REBOOT_PENDING = re.compile(r"reboot\s*pending|power\s*cycle", re.IGNORECASE)
_FAILURE_WORDS = re.compile(r"\b(fail\w*|error\w*|unable)\b", re.IGNORECASE)


def job_info(job_id: str, document: dict[str, Any], source: str) -> JobInfo:
    """One status from a task, Dell job or JobService job; any optional field may be
    absent, null or empty (real captures: SOI task.json, bmclib Supermicro tasks)."""
    oem = document.get("Oem")
    dell = oem.get("Dell") if isinstance(oem, dict) else None
    dell = dell if isinstance(dell, dict) and "JobState" in dell else None
    body = dell or document
    raw_state = body.get("JobState") or document.get("TaskState") or document.get("JobState")
    state = str(raw_state) if raw_state else None
    message, message_id = _message(body)
    percent = body.get("PercentComplete", document.get("PercentComplete"))
    health = document.get("JobStatus") or document.get("TaskStatus")
    status = _status(state, health, percent, message, message_id)
    return JobInfo(
        job_id=job_id,
        status=status,
        state=state,
        percent=percent if isinstance(percent, int) else None,
        message=message,
        message_id=message_id,
        name=plain_text(body.get("Name") or document.get("Name")),
        source=source,
    )


def _message(body: dict[str, Any]) -> tuple[str | None, str | None]:
    if plain_text(body.get("Message")):
        return plain_text(body.get("Message")), plain_text(body.get("MessageId"))
    messages = body.get("Messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return plain_text(messages[-1].get("Message")), plain_text(messages[-1].get("MessageId"))
    return None, None


def _status(
    state: str | None, health: Any, percent: Any, message: str | None, message_id: str | None
) -> JobStatus:
    # Unknown or absent: keep waiting, the job timeout decides.
    status = _STATES.get(state or "", JobStatus.RUNNING)
    if health == "Critical":
        return JobStatus.FAILED
    suffix = message_id_suffix(message_id)
    if status is JobStatus.COMPLETED:
        if message and _REBOOT_PENDING.search(message):
            return JobStatus.COMPLETED_NEEDS_REBOOT
        if message and _FAILURE_WORDS.search(message):
            return JobStatus.FAILED
    if not status.terminal and suffix == "AwaitToActivate":
        return JobStatus.SCHEDULED  # DMTF Update registry: waits for a reset
    if state == "Starting" and percent == 0 and health in (None, "OK"):
        return JobStatus.SCHEDULED  # iDRAC shows its Scheduled jobs as Starting, 0 %
    return status
