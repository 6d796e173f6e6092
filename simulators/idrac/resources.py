"""The identity documents of a simulated iDRAC: service root, system, manager, chassis.

Dell mode mirrors captures from real iDRAC9s of the host's firmware line (its
personality, docs/redfish.md); generic mode drops every Oem block and Dell-only resource
and uses plain ids (Systems/1, Managers/1), as a non-Dell BMC does.
"""

from __future__ import annotations

import zlib
from typing import Any

from simulators.idrac.host import SimHost

V1 = "/redfish/v1"
RESET_TYPES = ["On", "ForceOff", "ForceRestart", "GracefulRestart", "GracefulShutdown",
               "PushPowerButton", "Nmi", "PowerCycle"]  # fmt: skip
# Dell services a real manager links (ISRV UriManagers.md, iDRAC 5.10) -> schema version.
DELL_MANAGER_SERVICES = {
    "DellJobService": "v1_2_0",
    "DellLCService": "v1_3_0",
    "DelliDRACCardService": "v1_4_0",
    "DellLicenseManagementService": "v1_1_0",
    "DellPersistentStorageService": "v1_1_0",
    "DellTimeService": "v1_0_1",
}


# DMTF BootProgressTypes for what the simulated server is doing.
BOOT_PROGRESS = {
    "PoweredOff": "None",
    "InPOST": "PrimaryProcessorInitializationStarted",
    "OutOfPOST": "OSRunning",
}


def system_path(host: SimHost) -> str:
    return f"{V1}/Systems/{'1' if host.generic else 'System.Embedded.1'}"


def manager_path(host: SimHost) -> str:
    return f"{V1}/Managers/{'1' if host.generic else 'iDRAC.Embedded.1'}"


def chassis_path(host: SimHost) -> str:
    return f"{V1}/Chassis/{'1' if host.generic else 'System.Embedded.1'}"


def dell_path(host: SimHost, leaf: str) -> str:
    return f"{manager_path(host)}/Oem/Dell/{leaf}"


def link(path: str) -> dict[str, str]:
    return {"@odata.id": path}


def collection(path: str, kind: str, members: list[str]) -> dict[str, Any]:
    """A KIND collection (``#KINDCollection.KINDCollection``)."""
    return {
        "@odata.id": path,
        "@odata.type": f"#{kind}Collection.{kind}Collection",
        "Name": f"{kind} Collection",
        "Members": [link(m) for m in members],
        "Members@odata.count": len(members),
    }


def mac_address(host: SimHost, port: int) -> str:
    """A stable, locally administered MAC per host and port."""
    digits = f"{zlib.crc32(host.tag.encode()):08x}"
    return "02:" + ":".join(digits[i : i + 2] for i in range(0, 8, 2)) + f":{port:02x}"


def service_root(host: SimHost) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.id": V1,
        "@odata.type": host.personality.odata_type("ServiceRoot"),
        "Id": "RootService",
        "Name": "Root Service",
        "Description": "Root Service",
        "RedfishVersion": host.personality.redfish_version,
        "Vendor": "Contoso" if host.generic else "Dell",
        "Product": "Generic BMC" if host.generic else "Integrated Dell Remote Access Controller",
        "Systems": link(f"{V1}/Systems"),
        "Managers": link(f"{V1}/Managers"),
        "Chassis": link(f"{V1}/Chassis"),
        "SessionService": link(f"{V1}/SessionService"),
        "UpdateService": link(f"{V1}/UpdateService"),
        "Tasks": link(f"{V1}/TaskService"),
        "Links": {"Sessions": link(f"{V1}/SessionService/Sessions")},
    }
    if not host.quirks.sessions:
        del doc["SessionService"]
        doc["Links"] = {}
    if not host.generic:
        doc["JobService"] = link(f"{V1}/JobService")
        doc["ProtocolFeaturesSupported"] = {
            "ExpandQuery": {"ExpandAll": True, "Levels": True, "Links": True,
                            "MaxLevels": 1, "NoLinks": True},
            "FilterQuery": True,
            "SelectQuery": True,
        }  # fmt: skip
        doc["Oem"] = {
            "Dell": {
                "@odata.type": "#DellServiceRoot.v1_0_0.DellServiceRoot",
                "IsBranded": 0,
                "ManagerMACAddress": mac_address(host, 0),
                "ServiceTag": host.tag,
            }
        }
    return doc


def system(host: SimHost) -> dict[str, Any]:
    fans = "Critical" if host.faults.fan_failed else "OK"
    health = "Critical" if host.faults.fan_failed else host.health
    path = system_path(host)
    doc: dict[str, Any] = {
        "@odata.id": path,
        "@odata.type": host.personality.odata_type("ComputerSystem"),
        "Id": path.rsplit("/", 1)[1],
        "Name": "System",
        "SystemType": "Physical",
        "Manufacturer": "Contoso" if host.generic else "Dell Inc.",
        "Model": host.spec.model,
        "SKU": host.tag,
        "SerialNumber": host.tag if host.generic else f"CNIVC00{host.tag[-5:]}",
        "PowerState": "On" if host.power_on else "Off",
        "BiosVersion": host.firmware["bios"],
        "Status": {"Health": health, "HealthRollup": health, "State": "Enabled"},
        "MemorySummary": {
            "TotalSystemMemoryGiB": host.spec.memory_mb // 1024,
            "Status": {"Health": "OK", "HealthRollup": "OK", "State": "Enabled"},
        },
        "ProcessorSummary": {
            "Count": 2,
            "Status": {"Health": "OK", "HealthRollup": "OK", "State": "Enabled"},
        },
        "EthernetInterfaces": link(f"{path}/EthernetInterfaces"),
        "Links": {
            "Chassis": [link(chassis_path(host))],
            "ManagedBy": [link(manager_path(host))],
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": f"{path}/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": RESET_TYPES,
            }
        },
    }
    shown = host.generic or host.personality.system_last_reset_time
    if shown and host.quirks.last_reset_time:
        doc["LastResetTime"] = host.last_reset_time
    if host.generic and host.quirks.boot_progress:
        doc["BootProgress"] = {
            "LastState": BOOT_PROGRESS[host.server_status],
            "LastStateTime": host.server_status_since,
        }
    if not host.generic:
        doc["Oem"] = {
            "Dell": {
                "@odata.type": "#DellOem.v1_2_0.DellOemResources",
                "DellSystem": {
                    "@odata.type": "#DellSystem.v1_3_0.DellSystem",
                    "Id": "System.Embedded.1",
                    "Name": "DellSystem",
                    "SystemID": host.spec.system_id,
                    "SystemGeneration": "15G Monolithic",
                    "ChassisServiceTag": host.tag,
                    "NodeID": host.tag,
                    "CPURollupStatus": "OK",
                    "StorageRollupStatus": "OK",
                    "CurrentRollupStatus": "OK",
                    "FanRollupStatus": fans,
                    "TempRollupStatus": "OK",
                    "PSRollupStatus": "OK",
                    "SysMemPrimaryStatus": "OK",
                    "SELRollupStatus": "OK" if health == "OK" else "Critical",
                },
            }
        }
    return doc


def manager(host: SimHost) -> dict[str, Any]:
    path = manager_path(host)
    doc: dict[str, Any] = {
        "@odata.id": path,
        "@odata.type": host.personality.odata_type("Manager"),
        "Id": path.rsplit("/", 1)[1],
        "Name": "Manager",
        "Description": "BMC",
        "ManagerType": "BMC",
        "Model": "15G Monolithic",
        "FirmwareVersion": host.firmware["idrac"],
        "Status": {"Health": "OK", "State": "Enabled"},
        "EthernetInterfaces": link(f"{path}/EthernetInterfaces"),
        "NetworkProtocol": link(f"{path}/NetworkProtocol"),
        "Actions": {
            "#Manager.Reset": {
                "target": f"{path}/Actions/Manager.Reset",
                "ResetType@Redfish.AllowableValues": ["GracefulRestart"],
            }
        },
        "Links": {
            "ManagerForServers": [link(system_path(host))],
            "ManagerForChassis": [link(chassis_path(host))],
        },
    }
    if host.generic or host.personality.manager_last_reset_time:
        doc["LastResetTime"] = host.logs.idrac_started.isoformat()
    if not host.generic:
        doc["LogServices"] = link(f"{path}/LogServices")
        doc["Links"]["Oem"] = {
            "Dell": {
                "@odata.type": "#DellOem.v1_2_0.DellOemLinks",
                "Jobs": link(dell_path(host, "Jobs")),
                "DellLicenseCollection": link(dell_path(host, "DellLicenses")),
                **{name: link(dell_path(host, name)) for name in DELL_MANAGER_SERVICES},
            }
        }
    return doc


def chassis(host: SimHost) -> dict[str, Any]:
    return {
        "@odata.id": chassis_path(host),
        "@odata.type": host.personality.odata_type("Chassis"),
        "Id": chassis_path(host).rsplit("/", 1)[1],
        "Name": "Computer System Chassis",
        "ChassisType": "RackMount",
        "Model": host.spec.model,
        "SKU": host.tag,
        "PowerState": "On" if host.power_on else "Off",
        "Status": {"Health": "OK", "HealthRollup": "OK", "State": "Enabled"},
        "Thermal": link(f"{chassis_path(host)}/Thermal"),
        "Power": link(f"{chassis_path(host)}/Power"),
        "Links": {
            "ComputerSystems": [link(system_path(host))],
            "ManagedBy": [link(manager_path(host))],
        },
    }


def dell_service(host: SimHost, name: str, actions: list[str]) -> dict[str, Any]:
    path = dell_path(host, name)
    return {
        "@odata.id": path,
        "@odata.type": f"#{name}.{DELL_MANAGER_SERVICES[name]}.{name}",
        "Id": name,
        "Name": name,
        "Actions": {
            f"#{name}.{action}": {"target": f"{path}/Actions/{name}.{action}"} for action in actions
        },
    }


def service(host: SimHost, resource: str, name: str, **properties: Any) -> dict[str, Any]:
    """A DMTF service resource (SessionService, TaskService, JobService) at /redfish/v1."""
    return {
        "@odata.id": f"{V1}/{resource}",
        "@odata.type": host.personality.odata_type(resource),
        "Id": resource,
        "Name": name,
        "ServiceEnabled": True,
        "Status": {"Health": "OK", "State": "Enabled"},
        **properties,
    }


def session(host: SimHost, session_id: str, username: str) -> dict[str, Any]:
    return {
        "@odata.id": f"{V1}/SessionService/Sessions/{session_id}",
        "@odata.type": host.personality.odata_type("Session"),
        "Id": session_id,
        "Name": "User Session",
        "UserName": username,
    }
