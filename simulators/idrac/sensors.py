"""Thermal (temperatures, fans) and Power (power supplies) of the chassis, as iDRAC9 serves
them at /redfish/v1/Chassis/System.Embedded.1/Thermal and /Power (Dell "iDRAC9 Redfish API
Guide", Chassis: Thermal and Power; DMTF Thermal v1_4_0 and Power v1_5_0 shapes; member
names as on a 15G R650 capture; MemberId is the member's index, which DMTF's validator
requires of the last segment of its @odata.id). Readings are steady per host; the
``fan_failed`` fault stops one fan, which the fan, its rollup and the system's health show.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from simulators.idrac.host import SimHost
from simulators.idrac.http import Request, Response
from simulators.idrac.resources import V1, chassis_path
from simulators.idrac.routing import not_found, router

TEMPERATURES = (  # (member, name, °C on a quiet host, non-critical, critical)
    ("iDRAC.Embedded.1#SystemBoardInletTemp", "System Board Inlet Temp", 22, 42, 47),
    ("iDRAC.Embedded.1#SystemBoardExhaustTemp", "System Board Exhaust Temp", 35, 70, 75),
    ("iDRAC.Embedded.1#CPU1Temp", "CPU1 Temp", 48, 93, 98),
    ("iDRAC.Embedded.1#CPU2Temp", "CPU2 Temp", 46, 93, 98),
)
FANS = ("Fan1A", "Fan2A", "Fan3A", "Fan4A", "Fan5A", "Fan6A")
FAILED_FAN = FANS[0]
POWER_SUPPLIES = ("PSU.Slot.1", "PSU.Slot.2")


def _status(healthy: bool) -> dict[str, str]:
    return {"Health": "OK" if healthy else "Critical", "State": "Enabled"}


def _jitter(host: SimHost, key: str, spread: int) -> int:
    """A steady per-host offset, so hosts differ but a host reads the same each time."""
    return zlib.crc32(f"{host.tag}:{key}".encode()) % spread


def fan_healthy(host: SimHost) -> bool:
    return not host.faults.fan_failed


def thermal(host: SimHost) -> dict[str, Any]:
    path = f"{chassis_path(host)}/Thermal"
    temperatures = [
        {
            "@odata.id": f"{path}#/Temperatures/{index}",
            "MemberId": str(index),
            "Name": name,
            "ReadingCelsius": base + _jitter(host, member, 4),
            "UpperThresholdNonCritical": warning,
            "UpperThresholdCritical": critical,
            "Status": _status(True),
        }
        for index, (member, name, base, warning, critical) in enumerate(TEMPERATURES)
    ]
    fans = [
        {
            "@odata.id": f"{path}#/Fans/{index}",
            "MemberId": str(index),
            "Name": f"System Board {fan}",
            "Reading": 0 if fan == FAILED_FAN and not fan_healthy(host) else 5640 + 120 * index,
            "ReadingUnits": "RPM",
            "LowerThresholdCritical": 480,
            "Status": _status(fan != FAILED_FAN or fan_healthy(host)),
        }
        for index, fan in enumerate(FANS)
    ]
    return {
        "@odata.id": path,
        "@odata.type": host.personality.odata_type("Thermal"),
        "Id": "Thermal",
        "Name": "Thermal",
        "Temperatures": temperatures,
        "Temperatures@odata.count": len(temperatures),
        "Fans": fans,
        "Fans@odata.count": len(fans),
    }


def power(host: SimHost) -> dict[str, Any]:
    path = f"{chassis_path(host)}/Power"
    supplies = [
        {
            "@odata.id": f"{path}#/PowerSupplies/{index}",
            "MemberId": str(index),
            "Name": f"PS{index + 1} Status",
            "PowerCapacityWatts": 1400,
            "LastPowerOutputWatts": 180 + _jitter(host, member, 40) if host.power_on else 0,
            "Status": _status(True),
        }
        for index, member in enumerate(POWER_SUPPLIES)
    ]
    return {
        "@odata.id": path,
        "@odata.type": host.personality.odata_type("Power"),
        "Id": "Power",
        "Name": "Power",
        "PowerSupplies": supplies,
        "PowerSupplies@odata.count": len(supplies),
    }


CHASSIS = r"(?:System\.Embedded\.1|1)"


@router.add("GET", rf"{V1}/Chassis/{CHASSIS}/Thermal")
async def thermal_route(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != f"{chassis_path(host)}/Thermal":
        return not_found(request.path)
    return Response.json(200, thermal(host))


@router.add("GET", rf"{V1}/Chassis/{CHASSIS}/Power")
async def power_route(host: SimHost, request: Request, __: re.Match[str]) -> Response:
    if request.path != f"{chassis_path(host)}/Power":
        return not_found(request.path)
    return Response.json(200, power(host))
