"""Routes of the job paths (TaskService, Dell Jobs, JobService) and the Dell job services."""

from __future__ import annotations

import re

from simulators.idrac import job_documents as jd
from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.jobs import utc_now
from simulators.idrac.resources import V1, dell_path, dell_service, link, service
from simulators.idrac.routing import body, error, members, not_found, router

DELL = rf"{V1}/Managers/iDRAC\.Embedded\.1/Oem/Dell"
TASK_MONITORS = f"{V1}/TaskService/TaskMonitors"
DELL_JOBS = rf"(?:{DELL}|{V1}/Managers/iDRAC\.Embedded\.1)/Jobs"
# Actions of the Dell services the simulator answers (ISRV UriManagers.md, iDRAC 5.10).
DELL_ACTIONS = {
    "DellJobService": ["DeleteJobQueue"],
    "DellLCService": ["GetRemoteServicesAPIStatus"],
    "DelliDRACCardService": [],
    "DellLicenseManagementService": [],
    "DellPersistentStorageService": [],
    "DellTimeService": [],
}


@router.add("GET", rf"{V1}/TaskService")
async def task_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200,
        service(
            host,
            "TaskService",
            "Task Service",
            DateTime=jd.timestamp(utc_now()),
            Tasks=link(f"{V1}/TaskService/Tasks"),
        ),
    )


@router.add("GET", rf"{V1}/TaskService/Tasks")
async def tasks(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    documents = [jd.task(host, j) for j in host.jobs.values()]
    return members(host, request, f"{V1}/TaskService/Tasks", "Task", documents)


@router.add("GET", rf"{V1}/TaskService/Tasks/(\w+)")
async def task(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    if job is None:
        return not_found(request.path)
    return Response.json(200 if job.terminal else 202, jd.task(host, job))


@router.add("GET", rf"{TASK_MONITORS}/(\w+)")
async def task_monitor(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    """A DMTF task monitor: 202 and the task while it runs, the operation's 204 after."""
    job = host.jobs.get(match.group(1))
    if job is None or not host.quirks.task_monitor:
        return not_found(request.path)
    return Response(204) if job.terminal else Response.json(202, jd.task(host, job))


@router.add("GET", rf"{V1}/JobService", dell_only=True)
async def job_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200,
        service(
            host,
            "JobService",
            "Job Service",
            DateTime=jd.timestamp(utc_now()),
            ServiceCapabilities={"MaxJobs": 256, "MaxSteps": 1, "Scheduling": True},
            Jobs=link(f"{V1}/JobService/Jobs"),
            Log=link(f"{V1}/Managers/iDRAC.Embedded.1/LogServices/Lclog"),
        ),
    )


@router.add("GET", rf"{V1}/JobService/Jobs", dell_only=True)
async def jobservice_jobs(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    documents = [jd.jobservice_job(host, j) for j in host.jobs.values()]
    return members(host, request, f"{V1}/JobService/Jobs", "Job", documents)


@router.add("GET", rf"{V1}/JobService/Jobs/(\w+)", dell_only=True)
async def jobservice_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    return Response.json(200, jd.jobservice_job(host, job)) if job else not_found(request.path)


@router.add("GET", DELL_JOBS, dell_only=True)
async def dell_jobs(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    documents = [jd.dell_job(host, j) for j in host.jobs.values()]
    return members(host, request, dell_path(host, "Jobs"), "DellJob", documents)


@router.add("GET", rf"{DELL_JOBS}/(\w+)", dell_only=True)
async def dell_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    return Response.json(200, jd.dell_job(host, job)) if job else not_found(request.path)


@router.add("DELETE", rf"{DELL_JOBS}/(\w+)", dell_only=True)
async def delete_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    return Response(200) if host.clear_jobs(match.group(1)) else not_found(request.path)


@router.add("GET", rf"{DELL}/({'|'.join(DELL_ACTIONS)})", dell_only=True)
async def dell_service_document(host: SimHost, _: Request, match: re.Match[str]) -> Response:
    name = match.group(1)
    return Response.json(200, dell_service(host, name, DELL_ACTIONS[name]))


@router.add("POST", rf"{DELL}/DellJobService/Actions/DellJobService.DeleteJobQueue", dell_only=True)
async def delete_job_queue(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    job_id = body(request).get("JobID")
    if not isinstance(job_id, str) or not host.clear_jobs(job_id):
        return error(
            400, host.personality.message_id("SUP011"), f"Job ID {job_id!r} does not exist."
        )
    return Response.json(
        200,
        {
            "@Message.ExtendedInfo": [
                {
                    "MessageId": host.personality.message_id("SUP020"),
                    "Message": "Successfully deleted the job.",
                }
            ]
        },
    )


@router.add(
    "POST",
    rf"{DELL}/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus",
    dell_only=True,
)
async def remote_services(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(200, jd.remote_services_status(host))
