"""UpdateService and FirmwareInventory documents, as the host's firmware line shows them."""

from __future__ import annotations

import hashlib
from typing import Any

from simulators.idrac.components import COMPONENTS, Component
from simulators.idrac.dup import ImageInfo, identify_image
from simulators.idrac.host import SimHost
from simulators.idrac.resources import V1, link

UPDATE = f"{V1}/UpdateService"
INVENTORY = f"{UPDATE}/FirmwareInventory"
# ISRV UriUpdateService.md (iDRAC 5.10); the simulator fetches only HTTP(S) from loopback.
TRANSFER_PROTOCOLS = ["HTTP", "NFS", "CIFS", "TFTP", "HTTPS"]
INSTALL_UPON = ["Now", "NowAndReboot", "NextReboot"]
ACTION_INFO = f"{UPDATE}/SimpleUpdateActionInfo"


def transfer_protocols(host: SimHost) -> list[str]:
    return ["HTTP", "HTTPS"] if host.generic else TRANSFER_PROTOCOLS


def update_service(host: SimHost) -> dict[str, Any]:
    personality = host.personality
    actions: dict[str, Any] = {
        "#UpdateService.SimpleUpdate": {
            "target": f"{UPDATE}/Actions/UpdateService.SimpleUpdate",
            "TransferProtocol@Redfish.AllowableValues": transfer_protocols(host),
            "@Redfish.OperationApplyTimeSupport": {
                "@odata.type": "#Settings.v1_3_1.OperationApplyTimeSupport",
                "SupportedValues": list(personality.apply_times),
            },
        }
    }
    if personality.start_update_action:
        actions["#UpdateService.StartUpdate"] = {
            "target": f"{UPDATE}/Actions/UpdateService.StartUpdate"
        }
    doc: dict[str, Any] = {
        "@odata.id": UPDATE,
        "@odata.type": personality.odata_type("UpdateService"),
        "Id": "UpdateService",
        "Name": "Update Service",
        "Description": "Represents the properties for the Update Service",
        "ServiceEnabled": True,
        "Status": {"Health": "OK", "State": "Enabled"},
        "MultipartHttpPushUri": f"{UPDATE}/MultipartUpload",
        "MaxImageSizeBytes": None,
        "FirmwareInventory": link(INVENTORY),
        "Actions": actions,
    }
    if not host.quirks.firmware_inventory:
        del doc["FirmwareInventory"]
    if host.quirks.simple_update_targets:
        actions["#UpdateService.SimpleUpdate"]["@Redfish.ActionInfo"] = ACTION_INFO
    if not host.generic:
        doc["HttpPushUri"] = INVENTORY
        actions["Oem"] = {
            "#DellUpdateService.Install": {
                "target": f"{UPDATE}/Actions/Oem/DellUpdateService.Install",
                "InstallUpon@Redfish.AllowableValues": INSTALL_UPON,
            }
        }
    return doc


def simple_update_action_info(host: SimHost) -> dict[str, Any]:
    """SimpleUpdate's parameters, Targets Required (the quirk ``simple_update_targets``)."""
    return {
        "@odata.id": ACTION_INFO,
        "@odata.type": "#ActionInfo.v1_1_2.ActionInfo",
        "Id": "SimpleUpdateActionInfo",
        "Name": "SimpleUpdate Action Info",
        "Parameters": [
            {"Name": "ImageURI", "Required": True, "DataType": "String"},
            {
                "Name": "TransferProtocol",
                "Required": False,
                "DataType": "String",
                "AllowableValues": transfer_protocols(host),
            },
            {
                "Name": "Targets",
                "Required": True,
                "DataType": "StringArray",
                "AllowableValues": [m["@odata.id"] for m in firmware_members(host).values()],
            },
        ],
    }


def available_id(info: ImageInfo) -> str:
    """A staged (pushed, not installed) package: ``Available-159-2.7.1`` (reference §3)."""
    return f"Available-{info.component.component_id}-{info.version}"


def firmware_members(host: SimHost) -> dict[str, dict[str, Any]]:
    members: dict[str, dict[str, Any]] = {}
    for key, component in COMPONENTS.items():
        entries = [("Installed", host.firmware[key])]
        if not host.generic:
            if key == "bios":
                entries.append(("Current", host.firmware[key]))
            if key in host.previous:
                entries.append(("Previous", host.previous[key]))
        for prefix, version in entries:
            member_id = (
                component.generic_id
                if host.generic
                else f"{prefix}-{component.component_id}-{version}__{component.fqdd}"
            )
            members[member_id] = _software_inventory(host, member_id, prefix, component, version)
    for member_id, (name, content) in host.staged.items():
        info = identify_image(name, content)
        members[member_id] = _software_inventory(
            host, member_id, "Available", info.component, info.version
        )
    return members


def _software_inventory(
    host: SimHost, member_id: str, prefix: str, component: Component, version: str
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": f"{INVENTORY}/{member_id}",
        "@odata.type": host.personality.odata_type("SoftwareInventory"),
        "Id": member_id,
        "Name": component.name,
        "Description": "Represents Firmware Inventory",
        "Version": version,
        "SoftwareId": component.component_id,
        "Updateable": True,
        "Status": {"Health": "OK", "State": "Enabled"},
    }
    if not host.generic:
        dell = _dell_inventory(host, prefix, component, version)
        doc["Oem"] = {"Dell": {"DellSoftwareInventory": dell}}
    return doc


def _dell_inventory(
    host: SimHost, prefix: str, component: Component, version: str
) -> dict[str, Any]:
    """Dell's own view of a firmware entry (OMAM idrac_gather_facts README, iDRAC 6.00)."""
    numbers = [int(part) if part.isdigit() else 0 for part in version.split(".")] + [0, 0, 0]
    bios = component.component_type == "BIOS"
    doc: dict[str, Any] = {
        "@odata.type": "#DellSoftwareInventory.v1_2_0.DellSoftwareInventory",
        "Id": f"DCIM:{prefix.upper()}_0x23_{component.fqdd}",
        "Name": "DellSoftwareInventory",
        "Description": "The DellSoftwareInventory resource is a representation of an "
        "available device firmware in the managed system.",
        "ElementName": component.name,
        "ComponentID": component.component_id,
        "ComponentType": component.component_type,
        "Classifications": ["BIOS/FCode" if bios else "Firmware"],
        "IdentityInfoType": ["OrgID:ComponentType:ComponentID"],
        "IdentityInfoValue": [f"DCIM:{'BIOS' if bios else 'firmware'}:{component.component_id}"],
        "MajorVersion": numbers[0],
        "MinorVersion": numbers[1],
        "RevisionNumber": numbers[2],
        "RevisionString": None,
        "BuildNumber": 0,
        "InstallationDate": "NA",
        "IsEntity": True,
        "HashValue": hashlib.sha256(f"{component.component_id}-{version}".encode()).hexdigest(),
        "DeviceID": None,
        "VendorID": None,
        "SubDeviceID": None,
        "SubVendorID": None,
        "Status": "Installed" if prefix in ("Installed", "Current") else "AvailableForInstallation",
    }
    if host.personality.pldm_inventory_fields:
        doc |= {
            "PLDMCapabilitiesDuringUpdate": "0x00000000",
            "PLDMFDPCapabilitiesDuringUpdate": "0x00000000",
            "SidebandUpdateCapable": False,
            "impactsTPMmeasurements": component.component_type == "BIOS",
        }
    return doc
