"""The loopback control endpoint: read host state and counters, inject faults at run time.

GET  /hosts                     every host's state
GET  /hosts/{service_tag}       one host: power, LC, firmware, update_jobs, flashes, faults
POST /hosts/{service_tag}/faults   JSON merged into the host's faults (fleet-file names)
POST /hosts/{service_tag}/offline  {"seconds": N}: the iDRAC stops answering (iDRAC seconds)
POST /hosts/{service_tag}/quirks  JSON merged into the host's Quirks (warm_restart,
                                last_reset_time, boot_progress, sessions, basic_auth,
                                simple_update_targets, firmware_inventory)
POST /hosts/{service_tag}/license  {"level": "Express"|"Enterprise"|"Datacenter"}
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from simulators.fleet import HostFaults, IdracLicenseLevel
from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response

_HOST = re.compile(r"^/hosts/([A-Z0-9]+)(?:/(faults|offline|quirks|license))?$")
_LEVEL: TypeAdapter[IdracLicenseLevel] = TypeAdapter(IdracLicenseLevel)


def host_state(host: SimHost) -> dict[str, Any]:
    return {
        "service_tag": host.tag,
        "address": host.address,
        "generic": host.generic,
        "personality": host.spec.personality,
        "power_state": "On" if host.power_on else "Off",
        "server_status": host.server_status,
        # The truth, not what Redfish reports (which may be a stale "Ready").
        "lc_status": "Ready"
        if host.lc_ready and not host.faults.lc_stuck_not_ready
        else "NotReady",
        "idrac_online": host.idrac_online,
        "firmware": dict(host.firmware),
        "previous": dict(host.previous),
        "update_jobs": host.update_jobs,
        "requests": host.requests,
        "requests_by_resource": dict(host.requests_by_resource),
        "flashes": dict(host.flashes),
        "sessions": len(host.sessions),
        "jobs": {jid: job.state for jid, job in host.jobs.items()},
        "faults": host.faults.model_dump(),
        "quirks": asdict(host.quirks),
        "license": host.license,
    }


async def handle_control(hosts: dict[str, SimHost], request: Request) -> Response:
    if request.path == "/hosts" and request.method == "GET":
        return Response.json(200, [host_state(h) for h in hosts.values()])
    match = _HOST.match(request.path)
    host = hosts.get(match.group(1)) if match else None
    if match is None or host is None:
        return Response.json(404, {"error": f"no such host or path: {request.path}"})
    action = match.group(2)
    if action is None and request.method == "GET":
        return Response.json(200, host_state(host))
    if request.method != "POST" or action is None:
        return Response.json(405, {"error": "method not allowed"})
    try:
        body = request.json() or {}
        if action == "faults":
            host.set_faults(HostFaults.model_validate({**host.faults.model_dump(), **body}))
        elif action == "quirks":
            host.quirks = replace(host.quirks, **body)
        elif action == "license":
            host.license = _LEVEL.validate_python(body["level"])
        else:
            host.go_offline(float(body["seconds"]))
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        return Response.json(400, {"error": f"bad {action} request: {exc}"})
    return Response.json(200, host_state(host))
