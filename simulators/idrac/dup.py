"""What an update image contains, learned the way an operator reads it: from the name.

Dell Update Package (DUP) file names follow ``<Category>[_<Kind>]_<ReleaseID>[_<Model>]_
<OS>_<Version>[_<DellVersion>].<ext>``, e.g. ``BIOS_8MRPC_WN64_2.11.2.EXE`` (BIOS 2.11.2)
or ``iDRAC-with-Lifecycle-Controller_Firmware_XXXXX_WN64_7.10.30.00_A00.EXE`` (iDRAC
7.10.30.00). The token after the OS token (WN64, LN64, ...) is the version. Images whose
names do not follow the convention (``firmimgFIT.d9``, PLDM files) fall back to our own
manifest: a first line ``idrac-sim: component=<key> version=<version>`` in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from simulators.idrac.components import COMPONENTS, Component

# DUP category (first token of the name) -> our component key.
CATEGORIES: dict[str, str] = {
    "idrac-with-lifecycle-controller": "idrac",
    "idrac": "idrac",
    "bios": "bios",
    "network": "nic",
    "sas-raid": "raid",
    "raid": "raid",
    "diagnostics": "diagnostics",
    "cpld": "cpld",
}
_OS_TOKEN = re.compile(r"^(WN64|WN32|LN64|LN|LW64|LLXP)$", re.IGNORECASE)
_DELL_VERSION = re.compile(r"^A\d\d$", re.IGNORECASE)
_MANIFEST = re.compile(rb"^idrac-sim:\s*component=(\S+)\s+version=(\S+)\s*$")


@dataclass(frozen=True)
class ImageInfo:
    component: Component
    version: str


class ImageNotUnderstood(ValueError):
    """Neither the name nor a manifest line says what the image contains."""


def parse_dup_name(file_name: str) -> ImageInfo | None:
    """Component and version from a DUP file name, or None if it is not one."""
    stem = PurePosixPath(file_name).name
    if not re.search(r"\.(exe|bin)$", stem, re.IGNORECASE):
        return None
    tokens = stem.rsplit(".", 1)[0].split("_")
    os_positions = [i for i, token in enumerate(tokens) if _OS_TOKEN.match(token)]
    if not os_positions or os_positions[-1] + 1 >= len(tokens):
        return None
    version = tokens[os_positions[-1] + 1]
    if _DELL_VERSION.match(version):
        return None
    key = CATEGORIES.get(tokens[0].lower())
    if key is None:
        return None
    return ImageInfo(COMPONENTS[key], version)


def parse_manifest(content: bytes) -> ImageInfo | None:
    first_line = content.split(b"\n", 1)[0].strip()
    match = _MANIFEST.match(first_line)
    if match is None:
        return None
    component = COMPONENTS.get(match.group(1).decode())
    if component is None:
        return None
    return ImageInfo(component, match.group(2).decode())


def identify_image(file_name: str, content: bytes) -> ImageInfo:
    info = parse_dup_name(file_name) or parse_manifest(content)
    if info is None:
        raise ImageNotUnderstood(file_name)
    return info
