"""What a Dell server catalog (Catalog.xml) says, as plain values.

Field names follow Dell's attributes (reference §9). Identity is numeric, never a display
name: a component targets devices by ``componentID`` (the inventory's ``SoftwareId``) and,
for PCI cards, by PCI ids; servers by ``systemID`` (4 upper-case hex digits, the
``Oem.Dell.DellSystem.SystemID`` integer in hex). Plain dataclasses with slots: an import
builds tens of thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CRITICALITY_NAMES: dict[int, str] = {1: "Recommended", 2: "Urgent", 3: "Optional"}
"""Dell's ``Criticality@value`` codes (reference §9: DRS InstallFromRepositoryREDFISH.py,
MCLI parseDellUpdateSeverity). A catalog's own ``Display`` text wins when present."""

ComponentKind = Literal["software", "inventory"]
"""``SoftwareComponent`` (an update package) or ``InventoryComponent`` (the collector)."""


@dataclass(frozen=True, slots=True)
class PciId:
    """``PCIInfo`` of a device, each id 4 upper-case hex digits."""

    vendor_id: str
    device_id: str
    sub_vendor_id: str | None = None
    sub_device_id: str | None = None

    def matches(self, other: PciId) -> bool:
        """Vendor and device must agree; sub ids only where both sides know them."""
        if (self.vendor_id, self.device_id) != (other.vendor_id, other.device_id):
            return False
        pairs = (
            (self.sub_vendor_id, other.sub_vendor_id),
            (self.sub_device_id, other.sub_device_id),
        )
        return all(a is None or b is None or a == b for a, b in pairs)


@dataclass(frozen=True, slots=True)
class SupportedDevice:
    component_id: str
    embedded: bool
    pci: tuple[PciId, ...] = ()


@dataclass(frozen=True, slots=True)
class SupportedSystem:
    system_id: str
    brand: str = ""  # Brand@prefix, e.g. "PE"
    model: str = ""  # Model/Display, e.g. "R650": shown to people, never matched on


@dataclass(frozen=True, slots=True)
class Criticality:
    value: int
    display: str

    @classmethod
    def of(cls, value: int, display: str | None) -> Criticality:
        return cls(value, display or CRITICALITY_NAMES.get(value, f"unknown ({value})"))


@dataclass(frozen=True, slots=True)
class CatalogComponent:
    kind: ComponentKind
    line: int  # where it starts in the catalog, for error messages and support
    path: str  # relative to the manifest's baseLocation (or the mirror folder)
    vendor_version: str  # what the firmware inventory reports once installed
    dell_version: str | None = None  # Dell's package revision, e.g. "A00"
    package_id: str | None = None
    release_id: str | None = None
    name: str = ""
    component_type: str | None = None  # FRMW, BIOS, APAC, DRVR
    category: str | None = None
    category_display: str | None = None
    criticality: Criticality | None = None
    reboot_required: bool | None = None
    package_type: str | None = None  # LW64 (Windows DUP), LLXP (Linux BIN)
    size: int | None = None
    hash_md5: str | None = None
    hash_sha256: str | None = None
    date_time: str | None = None
    release_date: str | None = None
    devices: tuple[SupportedDevice, ...] = ()
    systems: tuple[SupportedSystem, ...] = ()

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The root element's attributes: which Dell release this catalog is."""

    version: str | None = None
    release_id: str | None = None
    identifier: str | None = None
    predecessor_id: str | None = None
    date_time: str | None = None
    base_location: str | None = None
    base_location_protocols: str | None = None
