"""EthernetInterfaces of the manager and the system, and the ManagerNetworkProtocol.

Shapes follow the iDRAC 5.10 capture (ISRV UriManagers.md, UriSystems.md). The manager's
address is the simulated iDRAC's own loopback address, so what inventory tools read
matches what they connected to.
"""

from __future__ import annotations

import re
from typing import Any

from simulators.idrac.components import COMPONENTS
from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.resources import (
    V1,
    chassis_path,
    link,
    mac_address,
    manager_path,
    system_path,
)
from simulators.idrac.routing import members, not_found, router

OWNER = rf"{V1}/(Managers/(?:iDRAC\.Embedded\.1|1)|Systems/(?:System\.Embedded\.1|1))"


def _interfaces(host: SimHost, owner: str) -> list[dict[str, Any]]:
    if owner == manager_path(host):
        nic = "1" if host.generic else "NIC.1"
        return [_interface(host, owner, nic, "Manager Ethernet Interface", 0, managed=True)]
    nic = "1" if host.generic else COMPONENTS["nic"].fqdd
    return [_interface(host, owner, nic, "System Ethernet Interface", 1, managed=False)]


def _interface(
    host: SimHost, owner: str, nic: str, name: str, port: int, *, managed: bool
) -> dict[str, Any]:
    mac = mac_address(host, port)
    doc: dict[str, Any] = {
        "@odata.id": f"{owner}/EthernetInterfaces/{nic}",
        "@odata.type": host.personality.odata_type("EthernetInterface"),
        "Id": nic,
        "Name": name,
        "EthernetInterfaceType": "Physical",
        "InterfaceEnabled": True,
        "LinkStatus": "LinkUp",
        "MACAddress": mac,
        "PermanentMACAddress": mac,
        "SpeedMbps": 1000 if managed else 25000,
        "FullDuplex": True,
        "AutoNeg": True,
        "Status": {"Health": "OK", "State": "Enabled"},
        "Links": {"Chassis": link(chassis_path(host))},
    }
    if managed:
        doc |= {
            "HostName": f"idrac-{host.tag}",
            "IPv4Addresses": [
                {
                    "Address": host.address,
                    "AddressOrigin": "Static",
                    "SubnetMask": "255.0.0.0",
                    "Gateway": "127.0.0.1",
                }
            ],
        }
    return doc


def network_protocol(host: SimHost) -> dict[str, Any]:
    return {
        "@odata.id": f"{manager_path(host)}/NetworkProtocol",
        "@odata.type": host.personality.odata_type("ManagerNetworkProtocol"),
        "Id": "NetworkProtocol",
        "Name": "Manager Network Protocol",
        "HostName": f"idrac-{host.tag}",
        "HTTP": {"Port": 80, "ProtocolEnabled": True},
        "HTTPS": {"Port": 443, "ProtocolEnabled": True},
        "SSH": {"Port": 22, "ProtocolEnabled": True},
        "IPMI": {"Port": 623, "ProtocolEnabled": False},
        "SNMP": {"Port": 161, "ProtocolEnabled": True},
        "KVMIP": {"Port": 5900, "ProtocolEnabled": True},
        "VirtualMedia": {"ProtocolEnabled": True},
        "NTP": {"NTPServers": ["", "", ""], "ProtocolEnabled": False},
        "Status": {"Health": "OK", "HealthRollup": "OK", "State": "Enabled"},
    }


def _owner(host: SimHost, request: Request, match: re.Match[str]) -> str | None:
    """The resource path the request is under, if it is this host's manager or system."""
    owner = f"{V1}/{match.group(1)}"
    return owner if owner in (manager_path(host), system_path(host)) else None


@router.add("GET", rf"{OWNER}/EthernetInterfaces")
async def interfaces(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    owner = _owner(host, request, match)
    if owner is None:
        return not_found(request.path)
    path = f"{owner}/EthernetInterfaces"
    return members(host, request, path, "EthernetInterface", _interfaces(host, owner))


@router.add("GET", rf"{OWNER}/EthernetInterfaces/([^/]+)")
async def interface(host: SimHost, request: Request, match: re.Match[str]) -> Response:
    owner = _owner(host, request, match)
    found = [i for i in _interfaces(host, owner) if i["Id"] == match.group(2)] if owner else []
    return Response.json(200, found[0]) if found else not_found(request.path)


@router.add("GET", rf"{V1}/Managers/(?:iDRAC\.Embedded\.1|1)/NetworkProtocol")
async def protocol(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if not request.path.startswith(manager_path(host)):
        return not_found(request.path)
    return Response.json(200, network_protocol(host))
