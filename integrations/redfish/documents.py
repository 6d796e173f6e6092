"""Reading Redfish documents as real BMCs write them: any optional level may be absent,
null, or of another type (real captures have ``"Oem": {}``, ``"Product": null``,
``"MessageArgs": "[]"``); a missing level reads as None, never as an exception."""

from __future__ import annotations

from typing import Any


def dig(document: Any, *keys: str) -> Any:
    """DOCUMENT[k1][k2]...; None as soon as a level is not an object or lacks the key."""
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def service_tag(system: dict[str, Any], dell: bool) -> str:
    """Dell's service tag is the system's SKU; other vendors' identity is its SerialNumber
    (a non-Dell SKU can read "To be filled by O.E.M.", docs/redfish.md)."""
    return str((system.get("SKU") if dell else None) or system.get("SerialNumber") or "")


def dell_system_id(system: dict[str, Any]) -> int | None:
    """Oem.Dell.DellSystem.SystemID: the platform id Dell's catalog lists (0x0A6B)."""
    value = dig(system, "Oem", "Dell", "DellSystem", "SystemID")
    return value if isinstance(value, int) else None


def link(document: Any, *keys: str) -> str | None:
    """The ``@odata.id`` of the link at DOCUMENT[k1][k2]..., None if there is none."""
    target = dig(document, *keys, "@odata.id")
    return target if isinstance(target, str) and target else None
