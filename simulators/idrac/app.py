"""Request handling for the simulated iDRACs: open paths, authentication, injected faults.

Resource modules register their routes on ``routing.router``; importing them here puts
every route in the table before the first request.
"""

from __future__ import annotations

import base64
import re

from simulators.idrac import (  # noqa: F401  (routes)
    licenses,
    log_services,
    network,
    odata,
    sensors,
    tasks,
    updates,
)
from simulators.idrac import resources as r
from simulators.idrac.host import SESSION_TIMEOUT_S, SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.routing import body, error, members, not_found, router

V1 = r.V1
SYS_ID = r"(?:System\.Embedded\.1|1)"
MGR_ID = r"(?:iDRAC\.Embedded\.1|1)"


def unauthorized(host: SimHost) -> Response:
    """What an expired or wiped token gets: 401 text/html (reference §1). A BMC with
    Basic turned off offers no Basic challenge (bmcweb's behaviour)."""
    if not host.quirks.basic_auth:
        return error(
            401,
            "Base.1.12.NoValidSession",
            "There is no valid session established with the implementation.",
        )
    return Response(
        401,
        b"<html><body>401 Unauthorized</body></html>",
        [("Content-Type", "text/html"), ("WWW-Authenticate", 'Basic realm="RedfishService"')],
    )


def authenticate(host: SimHost, request: Request) -> bool:
    token = request.headers.get("x-auth-token")
    if token:
        return host.session_for(token) is not None
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic ") and host.quirks.basic_auth:
        try:
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return host.credentials_ok(user, password)
    return False


async def handle(host: SimHost, request: Request) -> Response:
    """Every request to one iDRAC: the DMTF open paths and login need no auth, the rest do."""
    if request.method == "GET" and request.path in odata.OPEN_PATHS:
        return odata.OPEN_PATHS[request.path](host)
    if host.busy_left > 0:
        host.busy_left -= 1
        return error(
            503,
            host.personality.message_id("SYS518"),
            "iDRAC is currently unable to display any information because data sources "
            "are unavailable.",
        )
    if not host.quirks.sessions and request.path.startswith(f"{V1}/SessionService"):
        return not_found(request.path)
    if request.path == f"{V1}/SessionService/Sessions" and request.method == "POST":
        return login(host, request)
    if not authenticate(host, request):
        return unauthorized(host)
    return await router.dispatch(host, request)


def login(host: SimHost, request: Request) -> Response:
    try:
        body = request.json()
        user, password = str(body["UserName"]), str(body["Password"])
    except (ValueError, KeyError, TypeError):
        return error(400, "Base.1.12.PropertyMissing", "UserName and Password are required.")
    if not host.credentials_ok(user, password):
        return error(401, "Base.1.12.AccessDenied", "The authentication credentials are invalid.")
    host.expire_idle_sessions()
    if host.faults.session_limit or len(host.sessions) >= host.max_sessions:
        return error(
            503,
            host.personality.message_id("RAC0218"),
            "The maximum number of user sessions is reached.",
        )
    session = host.open_session(user)
    document = r.session(host, session.id, user)
    return Response.json(
        201, document, [("X-Auth-Token", session.token), ("Location", document["@odata.id"])]
    )


@router.add("GET", rf"{V1}/SessionService")
async def session_service(host: SimHost, _: Request, __: re.Match[str]) -> Response:
    return Response.json(
        200,
        r.service(
            host,
            "SessionService",
            "Session Service",
            SessionTimeout=int(SESSION_TIMEOUT_S),
            Sessions=r.link(f"{V1}/SessionService/Sessions"),
        ),
    )


@router.add("GET", rf"{V1}/SessionService/Sessions")
async def sessions(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    documents = [r.session(host, s.id, s.username) for s in host.sessions.values()]
    return members(host, request, f"{V1}/SessionService/Sessions", "Session", documents)


@router.add("GET", rf"{V1}/SessionService/Sessions/(\w+)")
async def session(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    found = host.sessions.get(match.group(1))
    if found is None:
        return not_found(request.path)
    return Response.json(200, r.session(host, found.id, found.username))


@router.add("DELETE", rf"{V1}/SessionService/Sessions/(\w+)")
async def logout(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    if host.sessions.pop(match.group(1), None) is None:
        return not_found(request.path)
    return Response(204)


@router.add("GET", rf"{V1}/Systems")
async def systems(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    return members(host, request, f"{V1}/Systems", "ComputerSystem", [r.system(host)])


@router.add("GET", rf"{V1}/Systems/{SYS_ID}")
async def system(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != r.system_path(host):
        return not_found(request.path)
    return Response.json(200, r.system(host))


@router.add("POST", rf"{V1}/Systems/{SYS_ID}/Actions/ComputerSystem.Reset")
async def reset(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    reset_type = body(request).get("ResetType")
    if reset_type not in r.RESET_TYPES:
        return error(
            400, "Base.1.12.PropertyValueNotInList", f"ResetType {reset_type!r} is not allowed."
        )
    host.request_reset(reset_type)
    return Response(204)


@router.add("GET", rf"{V1}/Managers")
async def managers(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    return members(host, request, f"{V1}/Managers", "Manager", [r.manager(host)])


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
    return members(host, request, f"{V1}/Chassis", "Chassis", [r.chassis(host)])


@router.add("GET", rf"{V1}/Chassis/{SYS_ID}")
async def chassis(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != r.chassis_path(host):
        return not_found(request.path)
    return Response.json(200, r.chassis(host))
