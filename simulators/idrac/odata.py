"""The paths DMTF requires to answer without a login: /redfish, /redfish/v1, its OData
service document and $metadata (DSP0266 "Service root"; validators read all four)."""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import quoteattr

from simulators.idrac.host import SimHost
from simulators.idrac.http import Response
from simulators.idrac.resources import V1, service_root

SCHEMAS = "http://redfish.dmtf.org/schemas/v1"
# Top-level resources named in the service document (url relative to the service).
SINGLETONS = ("Systems", "Managers", "Chassis", "SessionService", "UpdateService",
              "TaskService", "JobService")  # fmt: skip
COLLECTIONS = ("ComputerSystem", "Manager", "Chassis", "Session", "SoftwareInventory", "Task",
               "Job", "LogService", "LogEntry", "EthernetInterface")  # fmt: skip


def metadata(host: SimHost) -> Response:
    """CSDL references to each schema served, so a validator can fetch them."""
    includes = {
        resource: [resource, f"{resource}.{version}"]
        for resource, version in host.personality.schemas.items()
    }
    includes |= {f"{kind}Collection": [f"{kind}Collection"] for kind in COLLECTIONS}
    references = []
    for schema, namespaces in sorted(includes.items()):
        lines = "".join(f'    <edmx:Include Namespace="{n}"/>\n' for n in namespaces)
        uri = quoteattr(f"{SCHEMAS}/{schema}_v1.xml")
        references.append(f"  <edmx:Reference Uri={uri}>\n{lines}  </edmx:Reference>\n")
    container = f"ServiceRoot.{host.personality.schemas['ServiceRoot']}.ServiceContainer"
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">\n'
        + "".join(references)
        + "  <edmx:DataServices>\n"
        '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">\n'
        f'      <EntityContainer Name="Service" Extends="{container}"/>\n'
        "    </Schema>\n"
        "  </edmx:DataServices>\n"
        "</edmx:Edmx>\n"
    )
    return Response(200, document.encode(), [("Content-Type", "application/xml")])


def service_document(host: SimHost) -> Response:
    names = [n for n in SINGLETONS if not (host.generic and n == "JobService")]
    return Response.json(
        200,
        {
            "@odata.context": f"{V1}/$metadata",
            "value": [{"name": "Service", "kind": "Singleton", "url": f"{V1}/"}]
            + [{"name": n, "kind": "Singleton", "url": f"{V1}/{n}"} for n in names],
        },
    )


OPEN_PATHS: dict[str, Callable[[SimHost], Response]] = {
    "/redfish": lambda _: Response.json(200, {"v1": f"{V1}/"}),
    V1: lambda host: Response.json(200, service_root(host)),
    f"{V1}/odata": service_document,
    f"{V1}/$metadata": metadata,
}
