"""Routes of the UpdateService: inventory, and every way real iDRACs accept an update.

SimpleUpdate (URI, Previous- rollback, Available- staged package), MultipartHttpPushUri,
the legacy HttpPushUri upload (201 + ``Available-`` member, ETag/If-Match), Dell's
``DellUpdateService.Install`` and ``UpdateService.StartUpdate`` (reference §4).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP

from simulators.idrac import inventory as inv
from simulators.idrac import job_documents as jd
from simulators.idrac.components import component_by_id
from simulators.idrac.dup import ImageNotUnderstood, identify_image
from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.jobs import SimJob
from simulators.idrac.routing import body, error, members, not_found, router
from simulators.idrac.tasks import TASK_MONITORS

INVENTORY = re.escape(inv.INVENTORY)
ACTIONS = rf"{re.escape(inv.UPDATE)}/Actions"
INSTALL_APPLY_TIMES = {"Now": "OnReset", "NowAndReboot": "Immediate", "NextReboot": "OnReset"}


@router.add("GET", re.escape(inv.UPDATE))
async def update_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(200, inv.update_service(host))


@router.add("GET", re.escape(inv.ACTION_INFO))
async def action_info(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if not host.quirks.simple_update_targets:
        return not_found(request.path)
    return Response.json(200, inv.simple_update_action_info(host))


@router.add("GET", INVENTORY)
async def firmware_inventory(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if not host.quirks.firmware_inventory:
        return not_found(request.path)
    documents = list(inv.firmware_members(host).values())
    response = members(host, request, inv.INVENTORY, "SoftwareInventory", documents)
    response.headers.append(("ETag", _etag(host)))
    return response


@router.add("GET", rf"{INVENTORY}/([^/]+)")
async def firmware_member(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    member = inv.firmware_members(host).get(match.group(1))
    shown = member and host.quirks.firmware_inventory
    return Response.json(200, member) if shown else not_found(request.path)


@router.add("POST", INVENTORY, dell_only=True)
async def http_push(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    """Legacy upload: stage a package as ``Available-``; If-Match must carry the ETag."""
    if request.headers.get("if-match", "").strip('"') != _etag(host).strip('"'):
        return error(
            412, "Base.1.12.PreconditionFailed", "The ETag in If-Match is missing or stale."
        )
    part = _parts(request).get("file")
    if part is None:
        return error(400, "Base.1.12.PropertyMissing", "A multipart part named file is required.")
    upload = (part.get_filename() or "", part.get_payload(decode=True) or b"")
    try:
        member_id = inv.available_id(identify_image(*upload))
    except ImageNotUnderstood:
        return error(
            400, host.personality.message_id("RED007"), "Unable to verify Update Package signature."
        )
    host.staged[member_id] = upload
    document = inv.firmware_members(host)[member_id]
    return Response.json(201, document, [("Location", document["@odata.id"])])


@router.add("DELETE", rf"{INVENTORY}/(Available-[^/]+)", dell_only=True)
async def delete_staged(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    if host.staged.pop(match.group(1), None) is None:
        return not_found(request.path)
    return Response(200)


@router.add("POST", rf"{ACTIONS}/UpdateService.SimpleUpdate")
async def simple_update(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    params = body(request)
    image_uri = params.get("ImageURI")
    apply_time = params.get("@Redfish.OperationApplyTime", "Immediate")
    if not isinstance(image_uri, str) or not image_uri:
        return error(400, "Base.1.12.PropertyMissing", "The property ImageURI is required.")
    refused = _refused_apply_time(host, apply_time) or _refused_targets(host, params)
    if refused:
        return refused
    if image_uri.startswith(f"{inv.INVENTORY}/"):
        return _install_member(host, image_uri.rsplit("/", 1)[1], apply_time)
    protocol = params.get("TransferProtocol") or image_uri.split(":", 1)[0].upper()
    if protocol not in inv.transfer_protocols(host):
        return error(
            400,
            "Base.1.12.PropertyValueNotInList",
            f"TransferProtocol {protocol!r} is not supported.",
        )
    return _submit(host, lambda: host.start_update(apply_time=apply_time, image_uri=image_uri))


@router.add("POST", rf"{re.escape(inv.UPDATE)}/MultipartUpload")
async def multipart_upload(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return error(400, "Base.1.12.UnsupportedMediaType", "multipart/form-data required.")
    parts = _parts(request)
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
    refused = _refused_apply_time(host, apply_time)
    if refused:
        return refused
    upload = (file_part.get_filename() or "", file_part.get_payload(decode=True) or b"")
    return _submit(host, lambda: host.start_update(apply_time=apply_time, upload=upload))


@router.add("POST", rf"{ACTIONS}/Oem/DellUpdateService.Install", dell_only=True)
async def dell_install(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    """Dell's install of a staged package; one component per call (GUIDE, SYS442)."""
    params = body(request)
    uris, install_upon = params.get("SoftwareIdentityURIs"), params.get("InstallUpon")
    if install_upon not in INSTALL_APPLY_TIMES:
        return error(
            400, "Base.1.12.PropertyValueNotInList", f"InstallUpon {install_upon!r} is invalid."
        )
    if not isinstance(uris, list) or len(uris) != 1 or not isinstance(uris[0], str):
        return error(
            400,
            host.personality.message_id("SYS442"),
            "Unable to update because more than one component is selected.",
        )
    return _install_member(host, uris[0].rsplit("/", 1)[1], INSTALL_APPLY_TIMES[install_upon])


@router.add("POST", rf"{ACTIONS}/UpdateService.StartUpdate")
async def start_update(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    if not host.personality.start_update_action:
        return not_found(f"{inv.UPDATE}/Actions/UpdateService.StartUpdate")
    host.start_staged_updates()
    return Response(204)


def _install_member(host: SimHost, member_id: str, apply_time: str) -> Response:
    """SimpleUpdate/Install of an inventory member: a Previous- rollback or a staged package."""
    if not host.generic and member_id in host.staged:
        upload = host.staged.pop(member_id)
        return _submit(host, lambda: host.start_update(apply_time=apply_time, upload=upload))
    member = inv.firmware_members(host).get(member_id)
    component = component_by_id(member["SoftwareId"]) if member else None
    if component is None or host.generic or not member_id.startswith("Previous-"):
        return error(
            400,
            host.personality.message_id("SUP024"),
            "InstanceID value provided for the update operation is invalid",
        )
    return _submit(host, lambda: host.start_rollback(component, apply_time))


def _refused_apply_time(host: SimHost, apply_time: object) -> Response | None:
    if apply_time in host.personality.apply_times:
        return None
    return error(400, "Base.1.12.PropertyValueNotInList", f"{apply_time!r} is not supported.")


def _refused_targets(host: SimHost, params: dict[str, object]) -> Response | None:
    """Targets must name inventory members; with the quirk they are required."""
    targets = params.get("Targets")
    if targets is None and not host.quirks.simple_update_targets:
        return None
    if not targets:
        return error(
            400,
            "Base.1.12.ActionParameterMissing",
            "The action SimpleUpdate requires the parameter Targets to be present in the "
            "request body.",
        )
    members = {m["@odata.id"] for m in inv.firmware_members(host).values()}
    if not isinstance(targets, list) or not set(targets) <= members:
        return error(
            400,
            "Base.1.12.ActionParameterValueNotInList",
            f"The value {targets!r} for the parameter Targets is not in the list of "
            "acceptable values.",
        )
    return None


def _submit(host: SimHost, start: Callable[[], SimJob]) -> Response:
    """202 + the task's Location, unless a job operation is running (injected RAC0679)."""
    if host.submit_busy_left > 0:
        host.submit_busy_left -= 1
        return error(
            503,
            host.personality.message_id("RAC0679"),
            "A job operation is already running. Retry the operation after the existing job "
            "is completed.",
        )
    job = start()
    if host.quirks.task_monitor:
        location = [("Location", f"{TASK_MONITORS}/{job.id}")]
        return Response.json(202, jd.task(host, job), location)
    return Response(202, b"", [("Location", f"/redfish/v1/TaskService/Tasks/{job.id}")])


def _parts(request: Request) -> dict[str, EmailMessage]:
    content_type = request.headers.get("content-type", "")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    if not message.is_multipart():
        return {}
    return {
        p.get_param("name", header="content-disposition"): p  # type: ignore[misc]
        for p in message.iter_parts()
    }


def _etag(host: SimHost) -> str:
    """Changes whenever the inventory does, as the iDRAC's does (reference §4.3)."""
    state = json.dumps([sorted(host.firmware.items()), sorted(host.staged)]).encode()
    return f'"{hashlib.sha256(state).hexdigest()[:16]}"'
