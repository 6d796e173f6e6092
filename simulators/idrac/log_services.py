"""Routes of the manager's log services: ``Lclog`` (Lifecycle log) and ``Sel``.

Entries come newest first and inline (no $expand needed), as on real iDRACs;
``$filter=Severity eq 'Critical'`` (DRS GetIdracLcLogsREDFISH.py) and
``$filter=Created ge '<time>'`` (OMAM idrac_firmware.py) are honoured because Dell's own
tools depend on them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.logs import Log, LogEntry
from simulators.idrac.resources import V1, collection, link
from simulators.idrac.routing import error, members, not_found, router

LOGS = f"{V1}/Managers/iDRAC.Embedded.1/LogServices"
SERVICES = re.escape(LOGS)
NAMES = {"Lclog": "Lifecycle Controller Log Service", "Sel": "SEL Log Service"}
_FILTER = re.compile(r"^(Severity eq|Created ge) '([^']*)'$")


def _log(host: SimHost, name: str) -> Log:
    return host.logs.lifecycle if name == "Lclog" else host.logs.sel


def _path(name: str) -> str:
    return f"{LOGS}/{name}"


def log_service(host: SimHost, name: str) -> dict[str, Any]:
    path = _path(name)
    return {
        "@odata.id": path,
        "@odata.type": host.personality.odata_type("LogService"),
        "Id": name,
        "Name": NAMES[name],
        "OverWritePolicy": "WrapsWhenFull",
        "ServiceEnabled": True,
        "Status": {"Health": "OK", "State": "Enabled"},
        "Entries": link(f"{path}/Entries"),
    }


def log_entry(host: SimHost, name: str, entry: LogEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": f"{_path(name)}/Entries/{entry.id}",
        "@odata.type": host.personality.odata_type("LogEntry"),
        "Id": str(entry.id),
        "Name": f"Log Entry {entry.id}",
        "Created": entry.created.isoformat(),
        "Message": entry.message,
        "MessageArgs": list(entry.args),
        "MessageId": entry.message_id,
        "Severity": entry.severity,
    }
    if name == "Sel":
        return doc | {"EntryType": "SEL", "SensorType": "System Event", "EntryCode": "Assert"}
    return doc | {
        "EntryType": "Oem",
        "OemRecordFormat": "Dell",
        "Oem": {
            "Dell": {
                "@odata.type": "#DellLCLogEntry.v1_0_0.DellLCLogEntry",
                "Category": entry.category,
                "Comment": None,
                "LastUpdatedByUser": None,
            }
        },
    }


@router.add("GET", SERVICES, dell_only=True)
async def log_services(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    documents = [log_service(host, name) for name in NAMES]
    return members(host, request, LOGS, "LogService", documents)


@router.add("GET", rf"{SERVICES}/({'|'.join(NAMES)})", dell_only=True)
async def log_service_document(host: SimHost, _: Request, match: re.Match[str]) -> Response:
    return Response.json(200, log_service(host, match.group(1)))


@router.add("GET", rf"{SERVICES}/({'|'.join(NAMES)})/Entries", dell_only=True)
async def entries(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    name = match.group(1)
    selected = _log(host, name).newest_first()
    query = request.query.get("$filter")
    if query:
        found = _FILTER.match(query.strip())
        if found is None:
            return error(
                400, "Base.1.12.QueryParameterValueFormatError", f"Unsupported $filter {query!r}."
            )
        selected = [e for e in selected if _matches(e, found.group(1), found.group(2))]
    document = collection(f"{_path(name)}/Entries", "LogEntry", [])
    document["Members"] = [log_entry(host, name, e) for e in selected]
    document["Members@odata.count"] = len(selected)
    return Response.json(200, document)


@router.add("GET", rf"{SERVICES}/({'|'.join(NAMES)})/Entries/(\d+)", dell_only=True)
async def entry(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    name = match.group(1)
    found = _log(host, name).get(match.group(2))
    return Response.json(200, log_entry(host, name, found)) if found else not_found(request.path)


def _matches(entry: LogEntry, condition: str, value: str) -> bool:
    if condition == "Severity eq":
        return entry.severity == value
    try:
        return entry.created >= datetime.fromisoformat(value)
    except ValueError:
        return False
