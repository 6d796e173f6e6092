"""The twin's Dell catalogs: UTF-16 with a BOM, Dell's element and attribute names
(tests/fixtures/catalog/README.md cites where they come from), any size.

``Package`` describes one SoftwareComponent; ``catalog_bytes`` renders a whole catalog and
``write_catalog`` streams a large one to a file without holding it in memory.
``fleet_release`` is the catalog Dell would publish for a simulated fleet: one package per
simulator component (its real Dell component id) for every SystemID in the fleet, with
versions ``release`` steps past what the simulated hosts run by default, so release 0
matches a fresh fleet and releases 1, 2, ... are updates, several releases apart. Its
packages carry Dell DUP file names the twin reads (``dup.identify_image``) and the MD5 and
size of their content; ``write_mirror`` lays a release out as Dell Repository Manager
does (Catalog.xml beside the package folders), so the product can fetch and install them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from simulators.fleet import Fleet
from simulators.idrac.components import COMPONENTS, RebootType
from simulators.idrac.personality import NEWEST, PERSONALITIES

PCI = tuple[str, str, str, str]  # vendor, device, sub vendor, sub device


@dataclass(frozen=True)
class Package:
    component_id: str
    version: str
    systems: tuple[tuple[str, str], ...] = (("0912", "R650"),)  # (systemID, model)
    component_type: str = "FRMW"
    reboot_required: bool = True
    criticality: int = 1
    name: str = ""
    pci: tuple[PCI, ...] = ()
    release_id: str = field(default_factory=lambda: uuid.uuid4().hex[:5].upper())
    size: int | str = 20_971_520  # a string to write a broken one
    extra: str = ""  # raw attributes, e.g. a broken one for error tests
    file_name: str = ""  # the DUP's name; default a generic Firmware_..._A00.EXE
    hash_md5: str = ""  # of the file's content; default a random one

    @property
    def path(self) -> str:
        """Where Dell keeps it, relative to the catalog's baseLocation."""
        name = self.file_name or f"Firmware_{self.release_id}_WN64_{self.version}_A00.EXE"
        return f"FOLDER{self.release_id}M/1/{name}"


_CRITICALITY = {1: "Recommended", 2: "Urgent", 3: "Optional"}


def component_xml(p: Package) -> str:
    pci = "".join(
        f'\n        <PCIInfo deviceID="{d}" subDeviceID="{sd}" subVendorID="{sv}" vendorID="{v}" />'
        for v, d, sv, sd in p.pci
    )
    models = "".join(
        f'\n        <Model systemID="{sid}" systemIDType="BIOS">\n'
        f'          <Display lang="en"><![CDATA[{model}]]></Display>\n        </Model>'
        for sid, model in p.systems
    )
    attributes = {
        "dateTime": "2026-09-18T07:30:00+05:30",
        "dellVersion": "A00",
        "hashMD5": p.hash_md5 or uuid.uuid4().hex,
        "packageID": p.release_id,
        "packageType": "LW64",
        "path": p.path,
        "rebootRequired": "true" if p.reboot_required else "false",
        "releaseDate": "September 18, 2026",
        "releaseID": p.release_id,
        "schemaVersion": "2.4",
        "size": str(p.size),
        "vendorVersion": p.version,
    }
    attrs = " ".join(f'{k}="{v}"' for k, v in attributes.items())
    return f"""  <SoftwareComponent {attrs}{p.extra}>
    <Name>
      <Display lang="en"><![CDATA[{p.name or f"Firmware {p.component_id} {p.version}"}]]></Display>
    </Name>
    <ComponentType value="{p.component_type}">
      <Display lang="en"><![CDATA[Firmware]]></Display>
    </ComponentType>
    <Description>
      <Display lang="en"><![CDATA[This release contains firmware version {p.version}.]]></Display>
    </Description>
    <Category value="SM">
      <Display lang="en"><![CDATA[Systems Management]]></Display>
    </Category>
    <SupportedDevices>
      <Device componentID="{p.component_id}" embedded="1">{pci}
        <Display lang="en"><![CDATA[Device {p.component_id}]]></Display>
      </Device>
    </SupportedDevices>
    <SupportedSystems>
      <Brand key="3" prefix="PE">
        <Display lang="en"><![CDATA[PowerEdge]]></Display>{models}
      </Brand>
    </SupportedSystems>
    <Criticality value="{p.criticality}">
      <Display lang="en"><![CDATA[{_CRITICALITY.get(p.criticality, "Other")}]]></Display>
    </Criticality>
  </SoftwareComponent>
"""


def _parts(packages: Iterable[Package], version: str, prolog: str) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="utf-16"?>\n{prolog}'
    yield (
        f'<Manifest baseLocation="downloads.dell.com" baseLocationAccessProtocols="HTTPS" '
        f'dateTime="2026-10-20T02:11:40+05:30" identifier="{uuid.uuid4()}" '
        f'releaseID="T3P8K" version="{version}" predecessorID="{uuid.uuid4()}">\n'
    )
    for package in packages:
        yield component_xml(package)
    yield "</Manifest>\n"


def catalog_bytes(
    packages: Iterable[Package], version: str = "26.10.20", prolog: str = ""
) -> bytes:
    """A whole catalog, UTF-16 with a BOM as Dell ships it; each call is a new catalog."""
    return "".join(_parts(packages, version, prolog)).encode("utf-16")


def write_catalog(out: IO[bytes], packages: Iterable[Package], version: str = "26.10.20") -> None:
    out.write(b"\xff\xfe")  # BOM, then little-endian text in pieces
    for part in _parts(packages, version, ""):
        out.write(part.encode("utf-16-le"))


_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def bump(version: str, steps: int) -> str:
    """The version ``steps`` releases later: its last number raised, width kept
    (``7.00.00.00`` -> ``7.00.00.02``, ``4301A73`` -> ``4301A75``)."""
    match = _LAST_NUMBER.search(version)
    if match is None:
        return f"{version}.{steps}"
    number = str(int(match[1]) + steps).zfill(len(match[1]))
    return f"{version[: match.start()]}{number}{version[match.end() :]}"


# The first tokens of Dell's DUP names per simulator component, as downloads.dell.com
# names them (``BIOS_8MRPC_WN64_2.19.1.EXE``); simulators/idrac/dup.py reads them back.
DUP_PREFIX = {
    "idrac": "iDRAC-with-Lifecycle-Controller_Firmware",
    "bios": "BIOS",
    "nic": "Network_Firmware",
    "raid": "SAS-RAID_Firmware",
    "diagnostics": "Diagnostics_Application",
    "cpld": "CPLD_Firmware",
}


def dup_name(key: str, release_id: str, version: str) -> str:
    """A DUP file name: BIOS DUPs carry no Dell version suffix, the others ``_A00``."""
    suffix = "" if key == "bios" else "_A00"
    return f"{DUP_PREFIX[key]}_{release_id}_WN64_{version}{suffix}.EXE"


def dup_content(file_name: str) -> bytes:
    """A stand-in for the DUP's bytes (the twin reads only the name): small, and distinct
    per file so hashes tell packages apart."""
    return f"MZ idrac-sim update package {file_name}\n".encode()


def fleet_packages(fleet: Fleet, release: int) -> list[tuple[Package, bytes]]:
    """Dell's packages for the fleet's servers, ``release`` steps after their defaults,
    each with its file's content."""
    systems: dict[str, str] = {}
    for _, _, host in fleet.hosts():
        systems.setdefault(f"{host.system_id:04X}", host.model.removeprefix("PowerEdge "))
    baseline = {key: c.default_version for key, c in COMPONENTS.items()}
    baseline["idrac"] = PERSONALITIES[NEWEST].idrac_version
    packages = []
    for index, (key, c) in enumerate(sorted(COMPONENTS.items())):
        version = bump(baseline[key], release)
        release_id = f"S{release:02d}{index:02d}"
        file_name = dup_name(key, release_id, version)
        content = dup_content(file_name)
        package = Package(
            component_id=c.component_id,
            version=version,
            systems=tuple(systems.items()),
            component_type=c.component_type,
            reboot_required=c.reboot not in (RebootType.NONE, RebootType.IDRAC),
            name=f"{c.name} {version}",
            release_id=release_id,
            size=len(content),
            file_name=file_name,
            hash_md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        )
        packages.append((package, content))
    return packages


def _manifest_version(release: int) -> str:
    return f"26.{release + 1:02d}.00"


def fleet_release(fleet: Fleet, release: int) -> bytes:
    """Dell's catalog for the fleet's servers, ``release`` steps after their defaults."""
    packages = [package for package, _ in fleet_packages(fleet, release)]
    return catalog_bytes(packages, version=_manifest_version(release))


def write_mirror(folder: Path, fleet: Fleet, release: int) -> Path:
    """A local mirror of one release, as Dell Repository Manager writes it: Catalog.xml
    and every package at its catalog path. Returns the catalog's path."""
    packages = fleet_packages(fleet, release)
    for package, content in packages:
        target = folder / package.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    catalog = folder / "Catalog.xml"
    catalog.write_bytes(catalog_bytes([p for p, _ in packages], version=_manifest_version(release)))
    return catalog
