"""Firmware inventory: parse SoftwareInventory members into one model, and diff two reads.

Member Ids follow ``<Prefix>-<ComponentID>-<Version>[__<FQDD>]`` on iDRAC (reference §3):
Installed-/Current- are what runs, Previous- is the rollback image, Available- a staged
upload. A BMC without Dell OEM uses free-form Ids; all its members count as installed.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.redfish.documents import dig
from integrations.redfish.errors import NotFoundError
from integrations.redfish.models import (
    FirmwareComponent,
    FirmwareInventory,
    ImageKind,
    VersionChange,
)

_DELL_ID = re.compile(r"^(Installed|Current|Previous|Available)-(\d+)-(.+?)(?:__(.+))?$")
_KINDS = {
    "Installed": ImageKind.INSTALLED,
    "Current": ImageKind.INSTALLED,
    "Previous": ImageKind.PREVIOUS,
    "Available": ImageKind.AVAILABLE,
}


def parse_member(document: dict[str, Any]) -> FirmwareComponent:
    member_id = str(document.get("Id", ""))
    match = _DELL_ID.match(member_id)
    component_id = document.get("SoftwareId") or dig(
        document, "Oem", "Dell", "DellSoftwareInventory", "ComponentID"
    )
    fqdd = None
    kind = ImageKind.INSTALLED
    if match:
        kind = _KINDS[match.group(1)]
        component_id = component_id or match.group(2)
        fqdd = match.group(4)
    return FirmwareComponent(
        id=member_id,
        uri=str(document.get("@odata.id", "")),
        name=str(document.get("Name") or member_id),
        version=str(document.get("Version") or ""),
        component_id=str(component_id) if component_id not in (None, "") else None,
        fqdd=fqdd,
        kind=kind,
        updateable=bool(document.get("Updateable", False)),
    )


def parse_inventory(members: list[dict[str, Any]]) -> FirmwareInventory:
    return FirmwareInventory(components=[parse_member(m) for m in members])


def diff_inventory(before: FirmwareInventory, after: FirmwareInventory) -> list[VersionChange]:
    """Installed versions that differ between two reads (appeared, changed or vanished)."""
    old = {c.key: c for c in before.installed()}
    new = {c.key: c for c in after.installed()}
    changes: list[VersionChange] = []
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and a.version == b.version:
            continue
        ref = b or a
        assert ref is not None
        changes.append(
            VersionChange(
                name=ref.name,
                component_id=ref.component_id,
                fqdd=ref.fqdd,
                before=a.version if a else None,
                after=b.version if b else None,
            )
        )
    return changes


# Short names operators type for the components they roll back most.
_ALIASES = {"idrac": "25227", "bmc": "25227", "bios": "159"}


def find_component(
    components: list[FirmwareComponent], wanted: str, host: str, what: str
) -> FirmwareComponent:
    """The one of COMPONENTS that WANTED names; an error listing the choices otherwise."""
    found = [c for c in components if matches(c, wanted)]
    if len(found) != 1:
        names = ", ".join(f"{c.name} ({c.component_id or c.id})" for c in components)
        problem = "matches no" if not found else "matches several"
        raise NotFoundError(f"component {wanted!r} {problem} {what}; available: {names}", host=host)
    return found[0]


def target_uris(inventory: FirmwareInventory, wanted: list[str], host: str) -> list[str]:
    """Inventory URIs of the installed components WANTED names (SimpleUpdate Targets)."""
    installed = inventory.installed()
    return [find_component(installed, name, host, "installed component").uri for name in wanted]


def matches(component: FirmwareComponent, wanted: str) -> bool:
    """Match by ComponentID, FQDD, member Id, or a case-insensitive part of the name."""
    text = wanted.strip().lower()
    alias = _ALIASES.get(text)
    return (
        text in (component.component_id or "", (component.fqdd or "").lower(), component.id.lower())
        or (alias is not None and component.component_id == alias)
        or text in component.name.lower()
    )
