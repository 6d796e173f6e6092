"""The firmware components a simulated PowerEdge carries, with Dell's identifiers.

ComponentIDs, names and FQDDs are the ones seen on real iDRAC9s (reference §3); the
reboot type says how an update is applied (reference §5.5): NONE applies at once,
IDRAC resets the iDRAC itself, HOST waits for a host reboot, POWERCYCLE applies but
needs a virtual A/C power cycle ("Job completed, server reboot pending").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RebootType(StrEnum):
    NONE = "NONE"
    IDRAC = "IDRAC"
    HOST = "HOST"
    POWERCYCLE = "POWERCYCLE"


@dataclass(frozen=True)
class Component:
    key: str  # the name used in fleet files ("bios", "idrac", ...)
    component_id: str  # Dell ComponentID == Redfish SoftwareId
    name: str
    fqdd: str
    reboot: RebootType
    default_version: str
    component_type: str = "FRMW"
    generic_id: str = ""  # member Id on a BMC without Dell OEM


COMPONENTS: dict[str, Component] = {
    c.key: c
    for c in (
        Component(
            "idrac",
            "25227",
            "Integrated Dell Remote Access Controller",
            "iDRAC.Embedded.1-1",
            RebootType.IDRAC,
            "7.00.00.00",
            generic_id="BMC",
        ),
        Component(
            "bios",
            "159",
            "BIOS",
            "BIOS.Setup.1-1",
            RebootType.HOST,
            "1.10.2",
            component_type="BIOS",
            generic_id="BIOS",
        ),
        Component(
            "nic",
            "108255",
            "Broadcom Gigabit Ethernet BCM5720",
            "NIC.Embedded.1-1-1",
            RebootType.HOST,
            "22.00.6",
            generic_id="NIC1",
        ),
        Component(
            "raid",
            "101560",
            "PERC H755 Front",
            "RAID.SL.3-1",
            RebootType.HOST,
            "52.16.1-4405",
            generic_id="RAID1",
        ),
        Component(
            "diagnostics",
            "25806",
            "Dell 64 Bit uEFI Diagnostics",
            "Diagnostics.Embedded.1-1",
            RebootType.NONE,
            "4301A73",
            component_type="APAC",
            generic_id="Diagnostics",
        ),
        Component(
            "cpld",
            "27763",
            "System CPLD",
            "CPLD.Embedded.1-1",
            RebootType.POWERCYCLE,
            "1.0.6",
            generic_id="CPLD",
        ),
    )
}


def component_by_id(component_id: str) -> Component | None:
    return next((c for c in COMPONENTS.values() if c.component_id == component_id), None)
