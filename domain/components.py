"""What updating one firmware component costs: which reboot it needs and how long it takes.

Facts cite /work/shared/reference/idrac-redfish-firmware.md (§ numbers) and
/work/shared/reference/peer-tools.md (§4 "Headline numbers"). No public source publishes
per-component durations for current PowerEdge servers (peer-tools §4: "Measure these in the
lab"), so the minutes below are our conservative planning defaults, marked *derived*;
``domain.estimates`` replaces them with measured history as soon as it exists.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import NamedTuple


class RebootType(StrEnum):
    """Dell's RebootType of a package (reference §4.6 GetRepoBasedUpdateList, §5.5)."""

    NONE = "none"  # applied immediately, nothing restarts (Diagnostics, Driver Pack, iSM)
    IDRAC = "idrac"  # the iDRAC resets itself; the host keeps running (§5.5, §7)
    HOST = "host"  # staged, applied by the Lifecycle Controller during the next host boot


class ComponentKind(StrEnum):
    IDRAC = "idrac"
    BIOS = "bios"
    NIC = "nic"
    RAID = "raid"
    CPLD = "cpld"
    DIAGNOSTICS = "diagnostics"
    DRIVER_PACK = "driver_pack"
    ISM = "ism"
    OTHER = "other"


class ComponentFacts(NamedTuple):
    label: str
    reboot: RebootType
    apply: timedelta  # time the update itself adds once staged (see module doc)


_MIN = timedelta(minutes=1)

FACTS: dict[ComponentKind, ComponentFacts] = {
    # iDRAC: applied at once, then the iDRAC resets and drops off the network; clients wait
    # for ping loss, ping return + 60 s, then LC Ready, up to 900 s (§7); "10 minutes or
    # more" (peer-tools §4, iDRAC7). Derived: 12 min.
    ComponentKind.IDRAC: ComponentFacts("iDRAC", RebootType.IDRAC, 12 * _MIN),
    # BIOS: applied by the LC during POST (§5.5 RebootType HOST); a whole LC update takes
    # "10 to 15 minutes" incl. reboots (peer-tools §4, CMC manual). Derived: 8 min on top of
    # the shared reboot.
    ComponentKind.BIOS: ComponentFacts("BIOS", RebootType.HOST, 8 * _MIN),
    # NIC: HOST reboot (§5.5); LC budget "+1 min per NIC" (peer-tools §4). Derived: 3 min
    # per NIC package (flash plus that budget).
    ComponentKind.NIC: ComponentFacts("NIC", RebootType.HOST, 3 * _MIN),
    # RAID/PERC: HOST reboot (§5.5); LC budget "+30 s per RAID controller". Derived: 4 min.
    ComponentKind.RAID: ComponentFacts("RAID", RebootType.HOST, 4 * _MIN),
    # CPLD: needs its own virtual AC power cycle and must run last, unstacked (§5.5).
    # Derived: 10 min for the flash plus the extra power cycle.
    ComponentKind.CPLD: ComponentFacts("CPLD", RebootType.HOST, 10 * _MIN),
    # Diagnostics / Driver Pack / iSM: applied immediately, no restart (§5.5). Derived: 2 min.
    ComponentKind.DIAGNOSTICS: ComponentFacts("Diagnostics", RebootType.NONE, 2 * _MIN),
    ComponentKind.DRIVER_PACK: ComponentFacts("Driver Pack", RebootType.NONE, 2 * _MIN),
    ComponentKind.ISM: ComponentFacts("iSM", RebootType.NONE, 2 * _MIN),
    # Anything we cannot classify (backplane, PSU, ...) is assumed to need a host
    # reboot and to be slow, so an unknown part never makes a plan optimistic.
    ComponentKind.OTHER: ComponentFacts("other", RebootType.HOST, 10 * _MIN),
}

# Well-known Dell component ids (= SoftwareId), reference §3.
KNOWN_IDS: dict[str, ComponentKind] = {
    "25227": ComponentKind.IDRAC,
    "159": ComponentKind.BIOS,
    "101560": ComponentKind.RAID,  # PERC H730P
    "25806": ComponentKind.DIAGNOSTICS,
    "104684": ComponentKind.ISM,
    "108255": ComponentKind.NIC,  # BCM5720
    "27763": ComponentKind.CPLD,  # System CPLD (the iDRAC simulator's id; derived)
}

# Words in FirmwareInventory names (§3, §5.1 task names); first match wins, so the iDRAC
# Service Module is matched before the iDRAC itself.
_NAME_HINTS: tuple[tuple[re.Pattern[str], ComponentKind], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b", re.IGNORECASE), kind)
    for words, kind in (
        ("service module|ism", ComponentKind.ISM),
        ("idrac|remote access controller", ComponentKind.IDRAC),
        ("bios", ComponentKind.BIOS),
        ("cpld", ComponentKind.CPLD),
        ("perc|raid|sas|boss", ComponentKind.RAID),
        ("nic|network|ethernet|broadcom|connectx|qlogic", ComponentKind.NIC),
        ("diagnostics?", ComponentKind.DIAGNOSTICS),
        ("driver pack|os driver", ComponentKind.DRIVER_PACK),
    )
)


def classify(component_id: str, name: str = "") -> ComponentKind:
    """The kind of a component, by its Dell id first and its inventory name second."""
    known = KNOWN_IDS.get(component_id)
    if known is not None:
        return known
    for pattern, kind in _NAME_HINTS:
        if pattern.search(name):
            return kind
    return ComponentKind.OTHER
