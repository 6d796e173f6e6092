"""The Redfish documents a simulated iDRAC serves, rendered from its current state.

Dell mode mirrors captures from real iDRAC9s (reference §2-§7); generic mode drops
every Oem block and Dell-only resource and uses plain ids (Systems/1, Managers/1), as
a non-Dell BMC does.
"""

from __future__ import annotations

import time
from typing import Any

from simulators.idrac.components import COMPONENTS, Component
from simulators.idrac.host import SimHost
from simulators.idrac.jobs import SimJob

V1 = "/redfish/v1"


def system_path(host: SimHost) -> str:
    return f"{V1}/Systems/{'1' if host.generic else 'System.Embedded.1'}"


def manager_path(host: SimHost) -> str:
    return f"{V1}/Managers/{'1' if host.generic else 'iDRAC.Embedded.1'}"


def chassis_path(host: SimHost) -> str:
    return f"{V1}/Chassis/{'1' if host.generic else 'System.Embedded.1'}"


def dell_path(host: SimHost, leaf: str) -> str:
    return f"{manager_path(host)}/Oem/Dell/{leaf}"


def collection(path: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "@odata.id": path,
        "Members": [{"@odata.id": m} for m in members],
        "Members@odata.count": len(members),
        **extra,
    }


def service_root(host: SimHost) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": V1,
        "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.17.0",
        "Vendor": "Contoso" if host.generic else "Dell",
        "Product": "Generic BMC" if host.generic else "Integrated Dell Remote Access Controller",
        "Systems": {"@odata.id": f"{V1}/Systems"},
        "Managers": {"@odata.id": f"{V1}/Managers"},
        "Chassis": {"@odata.id": f"{V1}/Chassis"},
        "SessionService": {"@odata.id": f"{V1}/SessionService"},
        "UpdateService": {"@odata.id": f"{V1}/UpdateService"},
        "TaskService": {"@odata.id": f"{V1}/TaskService"},
        "Links": {"Sessions": {"@odata.id": f"{V1}/SessionService/Sessions"}},
    }
    if not host.generic:
        doc["JobService"] = {"@odata.id": f"{V1}/JobService"}
    return doc


def system(host: SimHost) -> dict[str, Any]:
    health = host.health
    doc: dict[str, Any] = {
        "@odata.id": system_path(host),
        "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": system_path(host).rsplit("/", 1)[1],
        "Manufacturer": "Contoso" if host.generic else "Dell Inc.",
        "Model": host.spec.model,
        "SKU": host.tag,
        "SerialNumber": host.tag if host.generic else f"CNIVC00{host.tag[-5:]}",
        "PowerState": "On" if host.power_on else "Off",
        "BiosVersion": host.firmware["bios"],
        "Status": {"Health": health, "HealthRollup": health, "State": "Enabled"},
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": f"{system_path(host)}/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": [
                    "On",
                    "ForceOff",
                    "ForceRestart",
                    "GracefulRestart",
                    "GracefulShutdown",
                    "PushPowerButton",
                    "Nmi",
                    "PowerCycle",
                ],
            }
        },
    }
    if host.personality.last_reset_time:
        doc["LastResetTime"] = host.last_reset_time
    if not host.generic:
        doc["Oem"] = {
            "Dell": {
                "DellSystem": {
                    "SystemID": host.spec.system_id,
                    "CPURollupStatus": "OK",
                    "StorageRollupStatus": "OK",
                    "CurrentRollupStatus": "OK",
                }
            }
        }
    return doc


def manager(host: SimHost) -> dict[str, Any]:
    path = manager_path(host)
    doc: dict[str, Any] = {
        "@odata.id": path,
        "@odata.type": "#Manager.v1_17_0.Manager",
        "Id": path.rsplit("/", 1)[1],
        "Name": "Manager",
        "ManagerType": "BMC",
        "Model": "15G Monolithic",
        "FirmwareVersion": host.firmware["idrac"],
        "Status": {"Health": "OK", "State": "Enabled"},
        "Actions": {
            "#Manager.Reset": {
                "target": f"{path}/Actions/Manager.Reset",
                "ResetType@Redfish.AllowableValues": ["GracefulRestart"],
            }
        },
        "Links": {},
    }
    if not host.generic:
        doc["Links"]["Oem"] = {
            "Dell": {
                leaf: {"@odata.id": dell_path(host, leaf)}
                for leaf in ("DellJobService", "DellLCService", "Jobs")
            }
        }
    return doc


def chassis(host: SimHost) -> dict[str, Any]:
    return {
        "@odata.id": chassis_path(host),
        "Id": chassis_path(host).rsplit("/", 1)[1],
        "ChassisType": "RackMount",
        "Model": host.spec.model,
        "SKU": host.tag,
        "PowerState": "On" if host.power_on else "Off",
        "Status": {"Health": "OK", "HealthRollup": "OK", "State": "Enabled"},
    }


def update_service(host: SimHost) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": f"{V1}/UpdateService",
        "@odata.type": "#UpdateService.v1_8_1.UpdateService",
        "Id": "UpdateService",
        "ServiceEnabled": True,
        "MultipartHttpPushUri": f"{V1}/UpdateService/MultipartUpload",
        "MaxImageSizeBytes": None,
        "FirmwareInventory": {"@odata.id": f"{V1}/UpdateService/FirmwareInventory"},
        "Actions": {
            "#UpdateService.SimpleUpdate": {
                "target": f"{V1}/UpdateService/Actions/UpdateService.SimpleUpdate",
                "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS"],
                "@Redfish.OperationApplyTimeSupport": {
                    "@odata.type": "#Settings.v1_3_3.OperationApplyTimeSupport",
                    "SupportedValues": ["Immediate", "OnReset"],
                },
            }
        },
    }
    return doc


def _member_id(host: SimHost, prefix: str, component: Component, version: str) -> str:
    if host.generic:
        return component.generic_id
    return f"{prefix}-{component.component_id}-{version}__{component.fqdd}"


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
            member_id = _member_id(host, prefix, component, version)
            members[member_id] = _software_inventory(host, member_id, prefix, component, version)
    return members


def _software_inventory(
    host: SimHost, member_id: str, prefix: str, component: Component, version: str
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": f"{V1}/UpdateService/FirmwareInventory/{member_id}",
        "@odata.type": "#SoftwareInventory.v1_10_2.SoftwareInventory",
        "Id": member_id,
        "Name": component.name,
        "Description": "Represents Firmware Inventory",
        "Version": version,
        "SoftwareId": component.component_id,
        "Updateable": True,
        "Status": {"Health": "OK", "State": "Enabled"},
    }
    if not host.generic:
        status = "AvailableForInstallation" if prefix == "Previous" else "Installed"
        doc["Oem"] = {
            "Dell": {
                "DellSoftwareInventory": {
                    "ComponentID": component.component_id,
                    "ComponentType": component.component_type,
                    "ElementName": component.name,
                    "Id": f"DCIM:{prefix.upper()}_0x23_{component.fqdd}",
                    "IdentityInfoValue": [f"DCIM:firmware:{component.component_id}"],
                    "Status": status,
                }
            }
        }
    return doc


def task(host: SimHost, job: SimJob) -> dict[str, Any]:
    messages = [{"Message": job.message, "MessageId": job.message_id, "MessageArgs": []}]
    if host.generic:
        return _generic_task(job)
    return {
        "@odata.id": f"{V1}/TaskService/Tasks/{job.id}",
        "@odata.type": "#Task.v1_5_1.Task",
        "Id": job.id,
        "Name": job.name,
        "TaskState": job.task_state,
        "TaskStatus": "Critical" if job.failed else "OK",
        "PercentComplete": job.percent,
        "Messages": messages,
        "Oem": {"Dell": dell_job(host, job)},
    }


def _generic_task(job: SimJob) -> dict[str, Any]:
    """DMTF Update registry messages instead of Dell's (no OEM on a generic BMC)."""
    if job.failed:
        state, message_id = "Exception", "Update.1.0.ApplyFailed"
    elif job.state == "Scheduled":
        state, message_id = "Pending", "Update.1.0.AwaitToActivate"
    elif job.terminal:
        state, message_id = "Completed", "Update.1.0.UpdateSuccessful"
    elif job.state in ("New", "Downloading", "Downloaded"):
        state, message_id = (
            "New" if job.state == "New" else "Running",
            "Update.1.0.UpdateInProgress",
        )
    else:
        state, message_id = "Running", "Update.1.0.InstallingOnComponent"
    return {
        "@odata.id": f"{V1}/TaskService/Tasks/{job.id}",
        "@odata.type": "#Task.v1_5_1.Task",
        "Id": job.id,
        "Name": job.name,
        "TaskState": state,
        "TaskStatus": "Critical" if job.failed else "OK",
        "PercentComplete": job.percent,
        "Messages": [{"Message": job.message, "MessageId": message_id, "MessageArgs": []}],
    }


def dell_job(host: SimHost, job: SimJob) -> dict[str, Any]:
    return {
        "@odata.id": f"{dell_path(host, 'Jobs')}/{job.id}",
        "@odata.type": "#DellJob.v1_5_0.DellJob",
        "Id": job.id,
        "Name": job.name,
        "JobType": job.job_type,
        "JobState": job.state,
        "Message": job.message,
        "MessageId": job.message_id,
        "MessageArgs": [],
        "PercentComplete": job.percent,
        "StartTime": "TIME_NOW",
        "EndTime": "TIME_NA",
        "CompletionTime": job.completion_time,
        "TargetSettingsURI": None,
    }


def jobservice_job(job: SimJob) -> dict[str, Any]:
    """DMTF Job view: a failed job reads JobState Completed + JobStatus Critical (§5.2)."""
    state = "Completed" if job.terminal else job.task_state
    return {
        "@odata.id": f"{V1}/JobService/Jobs/{job.id}",
        "@odata.type": "#Job.v1_2_1.Job",
        "Id": job.id,
        "Name": job.name,
        "JobState": state,
        "JobStatus": "Critical" if job.failed else "OK",
        "PercentComplete": job.percent,
        "StartTime": job.start_time,
        "Messages": [{"Message": job.message, "MessageId": job.message_id}],
    }


def task_visible(host: SimHost, job: SimJob) -> bool:
    """Dell quirks: a task 404s right after creation and is purged soon after completing."""
    if host.generic:
        return True
    now = time.monotonic()
    scaled = host.services.scaled
    if now - job.created < scaled(host.timings.task_visible_after):
        return False
    return job.finished is None or now - job.finished < scaled(host.timings.task_purge_after)


def remote_services_status(host: SimHost) -> dict[str, Any]:
    ready = host.lc_reports_ready
    return {
        "LCStatus": "Ready" if ready else "NotReady",
        "RTStatus": "Ready",
        "ServerStatus": "OutOfPOST" if ready else host.server_status,
        "Status": "Ready" if ready else "NotReady",
        "TelemetryServiceStatus": "Ready",
    }
