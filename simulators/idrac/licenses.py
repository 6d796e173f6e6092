"""The iDRAC's licenses: the DellLicenses collection its manager links as
``Links.Oem.Dell.DellLicenseCollection`` (Managers/iDRAC.Embedded.1/Oem/Dell/DellLicenses,
``$expand`` honoured), one DellLicense member for the host's license level.

Member fields are the ones Dell's own tools read (dellemc.openmanage
``idrac_utils/license/info.py``: Id, LicenseDescription as a list, LicenseInstallDate,
LicenseType, LicensePrimaryStatus; a lab tool's ``AssignedDevices`` and ``EntitlementID``);
descriptions follow Dell's "iDRAC9 x5 Enterprise License" pattern (docs/redfish.md).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.resources import dell_path
from simulators.idrac.routing import members, not_found, router

LICENSES = r"/redfish/v1/Managers/iDRAC\.Embedded\.1/Oem/Dell/DellLicenses"


def dell_license(host: SimHost) -> dict[str, Any]:
    """The host's one license; the entitlement id is stable per service tag."""
    entitlement = f"FD{zlib.crc32(host.tag.encode()):014d}"
    return {
        "@odata.id": f"{dell_path(host, 'DellLicenses')}/{entitlement}",
        "@odata.type": "#DellLicense.v1_1_0.DellLicense",
        "Id": entitlement,
        "Name": "DellLicense",
        "AssignedDevices": ["iDRAC.Embedded.1"],
        "EntitlementID": entitlement,
        "LicenseDescription": [f"iDRAC9 x5 {host.license} License"],
        "LicenseInstallDate": host.logs.idrac_started.isoformat(),
        "LicensePrimaryStatus": "OK",
        "LicenseType": "Perpetual",
    }


@router.add("GET", LICENSES, dell_only=True)
async def licenses(host: SimHost, request: Request, _: re.Match[str]) -> Response:
    path = dell_path(host, "DellLicenses")
    return members(host, request, path, "DellLicense", [dell_license(host)])


@router.add("GET", rf"{LICENSES}/(\w+)", dell_only=True)
async def one_license(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    document = dell_license(host)
    return (
        Response.json(200, document)
        if match.group(1) == document["Id"]
        else not_found(request.path)
    )
