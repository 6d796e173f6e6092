"""How a job reads on each of the paths clients poll: the Task, the Dell job, the DMTF job.

A job answers on all three from the moment its 202 is sent until it is deleted from the
queue (DeleteJobQueue); the iDRAC's own short-lived 404s are not reproduced, because a
client that trusts a 404 then reports "done" while the job still downloads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulators.idrac.host import SimHost
from simulators.idrac.jobs import SimJob
from simulators.idrac.resources import V1, dell_path


def timestamp(moment: datetime | None) -> str | None:
    """Redfish DateTime: ISO 8601 with the UTC offset."""
    return moment.isoformat() if moment else None


def task(host: SimHost, job: SimJob) -> dict[str, Any]:
    if host.generic:
        state, message_id = _generic_state(job)
    else:
        state, message_id = job.task_state, host.personality.message_id(job.message_id)
    doc: dict[str, Any] = {
        "@odata.id": f"{V1}/TaskService/Tasks/{job.id}",
        "@odata.type": host.personality.odata_type("Task"),
        "Id": job.id,
        "Name": job.name,
        "TaskState": state,
        "TaskStatus": "Critical" if job.failed else "OK",
        "PercentComplete": job.percent,
        "StartTime": timestamp(job.started_at),
        "Messages": [{"Message": job.message, "MessageId": message_id, "MessageArgs": []}],
    }
    if job.ended_at:
        doc["EndTime"] = timestamp(job.ended_at)
    if not host.generic:
        doc["Oem"] = {"Dell": dell_job(host, job)}
    return doc


def _generic_state(job: SimJob) -> tuple[str, str]:
    """DMTF Update registry messages instead of Dell's (no OEM on a generic BMC)."""
    if job.failed:
        return "Exception", "Update.1.0.ApplyFailed"
    if job.state == "Scheduled":
        return "Pending", "Update.1.0.AwaitToActivate"
    if job.terminal:
        return "Completed", "Update.1.0.UpdateSuccessful"
    if job.state in ("New", "Downloading", "Downloaded"):
        return ("New" if job.state == "New" else "Running"), "Update.1.0.UpdateInProgress"
    return "Running", "Update.1.0.InstallingOnComponent"


def dell_job(host: SimHost, job: SimJob) -> dict[str, Any]:
    """4.x shows the scheduling sentinels (SOI task.json); later lines the real times."""
    sentinel = host.personality.dell_job_start_time_sentinel
    return {
        "@odata.id": f"{dell_path(host, 'Jobs')}/{job.id}",
        "@odata.type": "#DellJob.v1_5_0.DellJob",
        "Id": job.id,
        "Name": job.name,
        "Description": "Job Instance",
        "JobType": job.job_type,
        "JobState": job.state,
        "Message": job.message,
        "MessageId": host.personality.message_id(job.message_id),
        "MessageArgs": [],
        "PercentComplete": job.percent,
        "StartTime": "TIME_NOW" if sentinel else job.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "EndTime": "TIME_NA",
        "CompletionTime": job.ended_at.strftime("%Y-%m-%dT%H:%M:%S") if job.ended_at else None,
        "TargetSettingsURI": None,
    }


def jobservice_job(host: SimHost, job: SimJob) -> dict[str, Any]:
    """DMTF Job view: a failed job reads JobState Completed + JobStatus Critical (§5.2)."""
    doc: dict[str, Any] = {
        "@odata.id": f"{V1}/JobService/Jobs/{job.id}",
        "@odata.type": host.personality.odata_type("Job"),
        "Id": job.id,
        "Name": job.name,
        "JobState": "Completed" if job.terminal else job.task_state,
        "JobStatus": "Critical" if job.failed else "OK",
        "PercentComplete": job.percent,
        "StartTime": timestamp(job.started_at),
        "Messages": [
            {"Message": job.message, "MessageId": host.personality.message_id(job.message_id)}
        ],
    }
    if job.ended_at:
        doc["EndTime"] = timestamp(job.ended_at)
    return doc


def remote_services_status(host: SimHost) -> dict[str, Any]:
    ready = host.lc_reports_ready
    return {
        "LCStatus": "Ready" if ready else "NotReady",
        "RTStatus": "Ready",
        "ServerStatus": "OutOfPOST" if ready else host.server_status,
        "Status": "Ready" if ready else "NotReady",
        "TelemetryServiceStatus": "Ready",
    }
