"""Health of one system: its rollup, each subsystem's rollup, and the chassis sensors.

Rollups come from the system document (Status, MemorySummary, ProcessorSummary and, on a
Dell, Oem.Dell.DellSystem's *RollupStatus); sensors from the chassis's Thermal and Power
resources (DMTF; iDRAC9 serves both). A BMC without them simply has fewer readings.
"""

from __future__ import annotations

from typing import Any

from domain.inventory import HealthReading, Sensor, SensorKind
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import NotFoundError

DELL_ROLLUPS = {  # Oem.Dell.DellSystem property -> subsystem
    "CPURollupStatus": "processors",
    "SysMemPrimaryStatus": "memory",
    "StorageRollupStatus": "storage",
    "FanRollupStatus": "fans",
    "TempRollupStatus": "temperatures",
    "PSRollupStatus": "power_supplies",
    "VoltRollupStatus": "voltages",
    "BatteryRollupStatus": "batteries",
}
SUMMARIES = {"MemorySummary": "memory", "ProcessorSummary": "processors"}


def rollups(system: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, subsystem in SUMMARIES.items():
        status = (system.get(key) or {}).get("Status") or {}
        value = status.get("HealthRollup") or status.get("Health")
        if value:
            found[subsystem] = str(value)
    dell = system.get("Oem", {}).get("Dell", {}).get("DellSystem", {})
    found |= {subsystem: str(dell[key]) for key, subsystem in DELL_ROLLUPS.items() if dell.get(key)}
    return found


def _sensor(kind: SensorKind, doc: dict[str, Any], reading: str, units: str | None) -> Sensor:
    value = doc.get(reading)
    return Sensor(
        kind=kind,
        name=str(doc.get("Name") or doc.get("MemberId") or kind),
        reading=float(value) if isinstance(value, int | float) else None,
        units=doc.get("ReadingUnits") or units,
        health=(doc.get("Status") or {}).get("Health"),
    )


def sensors(thermal: dict[str, Any], power: dict[str, Any]) -> list[Sensor]:
    return [
        *(
            _sensor("temperature", t, "ReadingCelsius", "Cel")
            for t in thermal.get("Temperatures") or []
        ),
        *(_sensor("fan", f, "Reading", None) for f in thermal.get("Fans") or []),
        *(
            _sensor("power_supply", p, "LastPowerOutputWatts", "W")
            for p in power.get("PowerSupplies") or []
        ),
    ]


async def _optional(client: RedfishClient, path: str) -> dict[str, Any]:
    try:
        return await client.transport.get_json(path)
    except NotFoundError:
        return {}


async def read_health(client: RedfishClient, system: dict[str, Any]) -> HealthReading:
    """Two requests beyond the system document: the chassis's Thermal, then its Power.
    One after the other on the one kept-alive connection: side by side they took a second
    TLS handshake per host, the sweep's largest CPU cost (docs/benchmarks.md)."""
    chassis = [c.get("@odata.id") for c in system.get("Links", {}).get("Chassis") or []]
    thermal: dict[str, Any] = {}
    power: dict[str, Any] = {}
    if chassis and chassis[0]:
        thermal = await _optional(client, f"{chassis[0]}/Thermal")
        power = await _optional(client, f"{chassis[0]}/Power")
    status = system.get("Status") or {}
    return HealthReading(
        health=status.get("HealthRollup") or status.get("Health"),
        rollups=rollups(system),
        sensors=sensors(thermal, power),
    )
