"""Request handling for the simulated iDRACs: routing, authentication, injected faults."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from simulators.idrac import resources as r
from simulators.idrac.components import COMPONENTS
from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response

V1 = r.V1
Route = Callable[[SimHost, Request, re.Match[str]], Awaitable[Response]]
APPLY_TIMES = ("Immediate", "OnReset")


def error(status: int, message_id: str, message: str) -> Response:
    """Dell's error envelope (reference §10)."""
    return Response.json(
        status,
        {
            "error": {
                "code": "Base.1.12.GeneralError",
                "message": "A general error has occurred. See ExtendedInfo for more information",
                "@Message.ExtendedInfo": [
                    {
                        "Message": message,
                        "MessageArgs": [],
                        "MessageId": message_id,
                        "Resolution": "See the message.",
                        "Severity": "Critical",
                    }
                ],
            }
        },
    )


def not_found(path: str) -> Response:
    return error(
        404, "Base.1.12.ResourceMissingAtURI", f"The resource at the URI {path} was not found."
    )


def unauthorized() -> Response:
    """What an expired or wiped token gets: 401 text/html (reference §1)."""
    return Response(
        401,
        b"<html><body>401 Unauthorized</body></html>",
        [("Content-Type", "text/html"), ("WWW-Authenticate", 'Basic realm="RedfishService"')],
    )


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Route, bool]] = []

    def add(
        self, method: str, pattern: str, *, dell_only: bool = False
    ) -> Callable[[Route], Route]:
        def register(route: Route) -> Route:
            self._routes.append((method, re.compile(f"^{pattern}$"), route, dell_only))
            return route

        return register

    async def dispatch(self, host: SimHost, request: Request) -> Response:
        allowed = False
        for method, pattern, route, dell_only in self._routes:
            match = pattern.match(request.path)
            if match is None or (dell_only and host.generic):
                continue
            if method == request.method:
                return await route(host, request, match)
            allowed = True
        if allowed:
            return error(405, "Base.1.12.ActionNotSupported", "The method is not allowed.")
        return not_found(request.path)


router = Router()
SYS_ID = r"(?:System\.Embedded\.1|1)"
MGR_ID = r"(?:iDRAC\.Embedded\.1|1)"
DELL = rf"{V1}/Managers/iDRAC\.Embedded\.1/Oem/Dell"


def authenticate(host: SimHost, request: Request) -> bool:
    token = request.headers.get("x-auth-token")
    if token:
        return host.session_for(token) is not None
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return host.credentials_ok(user, password)
    return False


async def handle(host: SimHost, request: Request) -> Response:
    """Every request to one iDRAC: service root and login are open, the rest need auth."""
    open_paths = (V1, f"{V1}/odata")
    if request.path in open_paths and request.method == "GET":
        return Response.json(200, r.service_root(host))
    if host.busy_left > 0:
        host.busy_left -= 1
        return error(
            503,
            "IDRAC.2.8.SYS518",
            "iDRAC is currently unable to display any information because data sources "
            "are unavailable.",
        )
    if request.path == f"{V1}/SessionService/Sessions" and request.method == "POST":
        return login(host, request)
    if not authenticate(host, request):
        return unauthorized()
    return await router.dispatch(host, request)


def login(host: SimHost, request: Request) -> Response:
    try:
        body = request.json()
        user, password = str(body["UserName"]), str(body["Password"])
    except (ValueError, KeyError, TypeError):
        return error(400, "Base.1.12.PropertyMissing", "UserName and Password are required.")
    if not host.credentials_ok(user, password):
        return error(401, "Base.1.12.AccessDenied", "The authentication credentials are invalid.")
    if host.faults.session_limit or len(host.sessions) >= host.max_sessions:
        return error(503, "IDRAC.2.4.RAC0218", "The maximum number of user sessions is reached.")
    session = host.open_session(user)
    location = f"{V1}/SessionService/Sessions/{session.id}"
    return Response.json(
        201,
        {"@odata.id": location, "Id": session.id, "UserName": user},
        [("X-Auth-Token", session.token), ("Location", location)],
    )


@router.add("GET", rf"{V1}/SessionService")
async def session_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200,
        {
            "@odata.id": f"{V1}/SessionService",
            "SessionTimeout": 1800,
            "Sessions": {"@odata.id": f"{V1}/SessionService/Sessions"},
        },
    )


@router.add("GET", rf"{V1}/SessionService/Sessions")
async def sessions(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    paths = [f"{V1}/SessionService/Sessions/{sid}" for sid in host.sessions]
    return Response.json(200, r.collection(f"{V1}/SessionService/Sessions", paths))


@router.add("DELETE", rf"{V1}/SessionService/Sessions/(\w+)")
async def logout(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    if host.sessions.pop(match.group(1), None) is None:
        return not_found(request.path)
    return Response(204)


def _single(host: SimHost, request: Request, path: str, document: dict[str, Any]) -> Response:
    """A one-member collection; with $expand the member's body is inlined."""
    if _expanded(host, request):
        return Response.json(
            200, {"@odata.id": path, "Members": [document], "Members@odata.count": 1}
        )
    return Response.json(200, r.collection(path, [document["@odata.id"]]))


def _expanded(host: SimHost, request: Request) -> bool:
    """iDRAC honours $expand; the generic BMC, like many, ignores it (clients must cope)."""
    return not host.generic and request.query.get("$expand", "").startswith(("*", "."))


@router.add("GET", rf"{V1}/Systems")
async def systems(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    return _single(host, request, f"{V1}/Systems", r.system(host))


@router.add("GET", rf"{V1}/Systems/{SYS_ID}")
async def system(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != r.system_path(host):
        return not_found(request.path)
    return Response.json(200, r.system(host))


@router.add("POST", rf"{V1}/Systems/{SYS_ID}/Actions/ComputerSystem.Reset")
async def reset(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    allowed = ["On", "ForceOff", "ForceRestart", "GracefulRestart", "GracefulShutdown",
               "PushPowerButton", "Nmi", "PowerCycle"]  # fmt: skip
    reset_type = _body(request).get("ResetType")
    if reset_type not in allowed:
        return error(
            400, "Base.1.12.PropertyValueNotInList", f"ResetType {reset_type!r} is not allowed."
        )
    host.request_reset(reset_type)
    return Response(204)


@router.add("GET", rf"{V1}/Managers")
async def managers(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    return _single(host, request, f"{V1}/Managers", r.manager(host))


@router.add("GET", rf"{V1}/Managers/{MGR_ID}")
async def manager(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != r.manager_path(host):
        return not_found(request.path)
    return Response.json(200, r.manager(host))


@router.add("POST", rf"{V1}/Managers/{MGR_ID}/Actions/Manager.Reset")
async def manager_reset(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    host.go_offline(host.timings.idrac_reset)
    return Response(204)


@router.add("GET", rf"{V1}/Chassis")
async def chassis_collection(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    return _single(host, request, f"{V1}/Chassis", r.chassis(host))


@router.add("GET", rf"{V1}/Chassis/{SYS_ID}")
async def chassis(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != r.chassis_path(host):
        return not_found(request.path)
    return Response.json(200, r.chassis(host))


@router.add("GET", rf"{V1}/UpdateService")
async def update_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(200, r.update_service(host))


@router.add("GET", rf"{V1}/UpdateService/FirmwareInventory")
async def firmware_inventory(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    members = r.firmware_members(host)
    path = f"{V1}/UpdateService/FirmwareInventory"
    if _expanded(host, request):
        document = {
            "@odata.id": path,
            "Members": list(members.values()),
            "Members@odata.count": len(members),
        }
        return Response.json(200, document)
    return Response.json(200, r.collection(path, [m["@odata.id"] for m in members.values()]))


@router.add("GET", rf"{V1}/UpdateService/FirmwareInventory/([^/]+)")
async def firmware_member(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    member = r.firmware_members(host).get(match.group(1))
    return Response.json(200, member) if member else not_found(request.path)


@router.add("POST", rf"{V1}/UpdateService/Actions/UpdateService.SimpleUpdate")
async def simple_update(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    body = _body(request)
    image_uri = body.get("ImageURI")
    apply_time = body.get("@Redfish.OperationApplyTime", "Immediate")
    if not isinstance(image_uri, str) or not image_uri:
        return error(400, "Base.1.12.PropertyMissing", "The property ImageURI is required.")
    if apply_time not in APPLY_TIMES:
        return error(400, "Base.1.12.PropertyValueNotInList", f"{apply_time!r} is not supported.")
    if image_uri.startswith(f"{V1}/UpdateService/FirmwareInventory/"):
        return _rollback(host, image_uri.rsplit("/", 1)[1], apply_time)
    protocol = body.get("TransferProtocol") or image_uri.split(":", 1)[0].upper()
    if protocol not in ("HTTP", "HTTPS"):
        return error(
            400,
            "Base.1.12.PropertyValueNotInList",
            f"TransferProtocol {protocol!r} is not supported.",
        )
    refused = _job_operation_running(host)
    if refused:
        return refused
    job = host.start_update(apply_time=apply_time, image_uri=image_uri)
    return _accepted(job.id)


def _rollback(host: SimHost, member_id: str, apply_time: str) -> Response:
    member = r.firmware_members(host).get(member_id)
    if member is None or host.generic or not member_id.startswith("Previous-"):
        return error(
            400, "IDRAC.2.8.SUP024", "InstanceID value provided for the update operation is invalid"
        )
    component = next(c for c in COMPONENTS.values() if c.component_id == member["SoftwareId"])
    job = host.start_rollback(component, apply_time)
    return _accepted(job.id)


@router.add("POST", rf"{V1}/UpdateService/MultipartUpload")
async def multipart_upload(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return error(400, "Base.1.12.UnsupportedMediaType", "multipart/form-data required.")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    params_part, file_part = parts.get("UpdateParameters"), parts.get("UpdateFile")
    if file_part is None or params_part is None:
        return error(
            400, "Base.1.12.PropertyMissing", "UpdateParameters and UpdateFile are required."
        )
    try:
        params = json.loads(params_part.get_payload(decode=True) or b"{}")
    except ValueError:
        return error(400, "Base.1.12.MalformedJSON", "UpdateParameters is not valid JSON.")
    apply_time = params.get("@Redfish.OperationApplyTime", "Immediate")
    if apply_time not in APPLY_TIMES:
        return error(400, "Base.1.12.PropertyValueNotInList", f"{apply_time!r} is not supported.")
    upload = (file_part.get_filename() or "", file_part.get_payload(decode=True) or b"")
    refused = _job_operation_running(host)
    if refused:
        return refused
    job = host.start_update(apply_time=apply_time, upload=upload)
    return _accepted(job.id)


def _job_operation_running(host: SimHost) -> Response | None:
    """Injected RAC0679: an update submission refused because a job operation runs."""
    if host.submit_busy_left <= 0:
        return None
    host.submit_busy_left -= 1
    return error(
        503,
        "IDRAC.2.8.RAC0679",
        "A job operation is already running. Retry the operation after the existing job is "
        "completed.",
    )


def _accepted(job_id: str) -> Response:
    return Response(202, b"", [("Location", f"{V1}/TaskService/Tasks/{job_id}")])


@router.add("GET", rf"{V1}/TaskService")
async def task_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200, {"@odata.id": f"{V1}/TaskService", "Tasks": {"@odata.id": f"{V1}/TaskService/Tasks"}}
    )


@router.add("GET", rf"{V1}/TaskService/Tasks")
async def tasks(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    visible = [
        f"{V1}/TaskService/Tasks/{j.id}" for j in host.jobs.values() if r.task_visible(host, j)
    ]
    return Response.json(200, r.collection(f"{V1}/TaskService/Tasks", visible))


@router.add("GET", rf"{V1}/TaskService/Tasks/(\w+)")
async def task(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    if job is None or not r.task_visible(host, job):
        return not_found(request.path)
    document = r.task(host, job)
    return Response.json(200 if job.terminal else 202, document)


@router.add("GET", rf"{V1}/JobService", dell_only=True)
async def job_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200,
        {
            "@odata.id": f"{V1}/JobService",
            "ServiceCapabilities": {"MaxJobs": 256, "MaxSteps": 1, "Scheduling": True},
            "Jobs": {"@odata.id": f"{V1}/JobService/Jobs"},
        },
    )


@router.add("GET", rf"{V1}/JobService/Jobs", dell_only=True)
async def jobservice_jobs(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    paths = [f"{V1}/JobService/Jobs/{jid}" for jid in host.jobs]
    return Response.json(200, r.collection(f"{V1}/JobService/Jobs", paths))


@router.add("GET", rf"{V1}/JobService/Jobs/(\w+)", dell_only=True)
async def jobservice_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    return Response.json(200, r.jobservice_job(job)) if job else not_found(request.path)


@router.add("GET", rf"(?:{DELL}|{V1}/Managers/iDRAC\.Embedded\.1)/Jobs", dell_only=True)
async def dell_jobs(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    path = r.dell_path(host, "Jobs")
    if _expanded(host, request):
        members = [r.dell_job(host, j) for j in host.jobs.values()]
        return Response.json(
            200, {"@odata.id": path, "Members": members, "Members@odata.count": len(members)}
        )
    return Response.json(200, r.collection(path, [f"{path}/{jid}" for jid in host.jobs]))


@router.add("GET", rf"(?:{DELL}|{V1}/Managers/iDRAC\.Embedded\.1)/Jobs/(\w+)", dell_only=True)
async def dell_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    job = host.jobs.get(match.group(1))
    return Response.json(200, r.dell_job(host, job)) if job else not_found(request.path)


@router.add("DELETE", rf"(?:{DELL}|{V1}/Managers/iDRAC\.Embedded\.1)/Jobs/(\w+)", dell_only=True)
async def delete_job(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    return Response(200) if host.clear_jobs(match.group(1)) else not_found(request.path)


@router.add("GET", rf"{DELL}/(DellJobService|DellLCService)", dell_only=True)
async def dell_service(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    name = match.group(1)
    action = "DeleteJobQueue" if name == "DellJobService" else "GetRemoteServicesAPIStatus"
    return Response.json(
        200,
        {
            "@odata.id": request.path,
            "Id": name,
            "Actions": {f"#{name}.{action}": {"target": f"{request.path}/Actions/{name}.{action}"}},
        },
    )


@router.add("POST", rf"{DELL}/DellJobService/Actions/DellJobService.DeleteJobQueue", dell_only=True)
async def delete_job_queue(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    job_id = _body(request).get("JobID")
    if not isinstance(job_id, str) or not host.clear_jobs(job_id):
        return error(400, "IDRAC.2.8.SUP011", f"Job ID {job_id!r} does not exist.")
    return Response.json(
        200,
        {
            "@Message.ExtendedInfo": [
                {"MessageId": "IDRAC.2.8.SUP020", "Message": "Successfully deleted the job."}
            ]
        },
    )


@router.add(
    "POST",
    rf"{DELL}/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus",
    dell_only=True,
)
async def remote_services(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(200, r.remote_services_status(host))


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
