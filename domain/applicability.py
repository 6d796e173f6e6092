"""Which catalog packages apply to a host, and what installing each would do.

Decided by identifiers only (reference §9), never by display names:
- the server: the catalog's ``Model@systemID`` against the host's Dell SystemID;
- a device: ``Device@componentID`` against the inventory's ``SoftwareId``; where both the
  catalog device and the installed device carry PCI ids, those must agree too (one
  component id can cover several cards, and a card may appear under another's id).

When the catalog offers several packages for one device, the newest (by
:mod:`domain.dell_version`) is the candidate. A package is installed when it is newer than
what a matching device runs; one that would take any matching device back (or cannot be
ordered against it) only when downgrades are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.catalog import CatalogComponent, PciId
from domain.dell_version import Change, change, compare

_HEX = re.compile(r"^(?:0x)?([0-9A-Fa-f]{1,4})$")


def system_id_key(value: str | int) -> str:
    """A SystemID as the catalog writes it (``0912``): Redfish gives an integer (2322),
    our inventory may hold ``0x0912``; a bare string is read as hex, as in the catalog."""
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"SystemID {value} is out of range")
        return f"{value:04X}"
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"SystemID {value!r} is not 1-4 hex digits")
    return match[1].upper().zfill(4)


@dataclass(frozen=True, slots=True)
class InstalledDevice:
    """One firmware inventory entry of the host."""

    component_id: str  # SoftwareId
    version: str
    pci: PciId | None = None


@dataclass(frozen=True, slots=True)
class Host:
    system_id: str  # as system_id_key() returns it
    devices: tuple[InstalledDevice, ...]


class Verdict(StrEnum):
    INSTALL = "install"
    CURRENT = "current"  # every matching device already runs it
    DOWNGRADE_BLOCKED = "downgrade_blocked"  # older or unorderable, downgrades not allowed


@dataclass(frozen=True, slots=True)
class Decision:
    component: CatalogComponent
    devices: tuple[InstalledDevice, ...]
    changes: tuple[Change, ...]  # per device, same order
    verdict: Verdict


def supports_system(component: CatalogComponent, system_id: str) -> bool:
    return any(system.system_id == system_id for system in component.systems)


def targets(component: CatalogComponent, device: InstalledDevice) -> bool:
    for supported in component.devices:
        if supported.component_id != device.component_id:
            continue
        if not supported.pci or device.pci is None:
            return True
        if any(pci.matches(device.pci) for pci in supported.pci):
            return True
    return False


def _newest(candidates: Sequence[CatalogComponent]) -> CatalogComponent:
    """The newest package; among unorderable or equal ones, the one listed first."""
    best = candidates[0]
    for candidate in candidates[1:]:
        if compare(candidate.vendor_version, best.vendor_version) == 1:
            best = candidate
    return best


def decide(
    host: Host, catalog: Iterable[CatalogComponent], allow_downgrade: bool = False
) -> list[Decision]:
    """One decision per installed component id the catalog has a package for."""
    offers: dict[str, list[CatalogComponent]] = {}
    for component in catalog:
        if component.kind != "software" or not supports_system(component, host.system_id):
            continue
        for device_id in {d.component_id for d in host.devices if targets(component, d)}:
            offers.setdefault(device_id, []).append(component)
    decisions = []
    for device_id in sorted(offers):
        chosen = _newest(offers[device_id])
        devices = tuple(
            d for d in host.devices if d.component_id == device_id and targets(chosen, d)
        )
        changes = tuple(change(d.version, chosen.vendor_version) for d in devices)
        decisions.append(Decision(chosen, devices, changes, _verdict(changes, allow_downgrade)))
    return decisions


def _verdict(changes: tuple[Change, ...], allow_downgrade: bool) -> Verdict:
    """A package applies to every matching device at once: one device it would take back
    (or cannot be ordered against) blocks it unless downgrades are allowed."""
    if all(c is Change.SAME for c in changes):
        return Verdict.CURRENT
    if allow_downgrade or all(c in (Change.SAME, Change.UPGRADE) for c in changes):
        return Verdict.INSTALL
    return Verdict.DOWNGRADE_BLOCKED
