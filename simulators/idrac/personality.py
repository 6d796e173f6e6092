"""iDRAC9 firmware lines the simulator can play: where real ones differ, and by how much.

Every value here comes from a public capture of a real iDRAC (docs/redfish.md lists the
source of each); where no capture exists for a line, the nearest older capture is reused
and the docs say so. A host picks its line with ``personality:`` in the fleet file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

PersonalityName = Literal["idrac9-4.x", "idrac9-5.x", "idrac9-7.x"]
NEWEST: PersonalityName = "idrac9-7.x"


@dataclass(frozen=True)
class Personality:
    name: str
    idrac_version: str  # the iDRAC firmware a host of this line runs unless the fleet says
    redfish_version: str
    schemas: dict[str, str]  # resource type -> schema version ("v1_12_0")
    registry: str  # prefix of Dell MessageIds ("IDRAC.2.8")
    system_last_reset_time: bool
    manager_last_reset_time: bool
    apply_times: tuple[str, ...]
    start_update_action: bool
    dell_job_start_time_sentinel: bool  # DellJob StartTime "TIME_NOW" instead of a timestamp
    pldm_inventory_fields: bool  # PLDM/TPM fields on DellSoftwareInventory

    def odata_type(self, resource: str) -> str:
        """``#Manager.v1_9_0.Manager`` for this line's version of RESOURCE."""
        return f"#{resource}.{self.schemas[resource]}.{resource}"

    def message_id(self, suffix: str) -> str:
        """Dell MessageIds carry their registry: ``IDRAC.2.8.SUP024`` (reference §10)."""
        return suffix if "." in suffix else f"{self.registry}.{suffix}"


_COMMON = {
    "TaskService": "v1_1_5",
    "JobService": "v1_0_3",
    "Job": "v1_0_3",
    "SessionService": "v1_1_8",
    "Session": "v1_3_0",
    "Chassis": "v1_14_0",
    "Thermal": "v1_4_0",
    "Power": "v1_5_0",
    "LogService": "v1_1_3",
    "LogEntry": "v1_6_1",
    "EthernetInterface": "v1_6_1",
    "ManagerNetworkProtocol": "v1_6_0",
}

# Each line is written as what changed since the one before it.
IDRAC9_4 = Personality(
    name="idrac9-4.x",
    idrac_version="4.40.00.00",
    redfish_version="1.9.0",
    schemas={
        **_COMMON,
        "ServiceRoot": "v1_6_0",
        "ComputerSystem": "v1_10_0",
        "Manager": "v1_3_3",
        "UpdateService": "v1_8_0",
        "SoftwareInventory": "v1_2_3",
        "Task": "v1_4_3",
    },
    registry="IDRAC.2.5",
    system_last_reset_time=False,
    manager_last_reset_time=False,
    apply_times=("Immediate", "OnReset"),
    start_update_action=False,
    dell_job_start_time_sentinel=True,
    pldm_inventory_fields=False,
)
IDRAC9_5 = replace(
    IDRAC9_4,
    name="idrac9-5.x",
    idrac_version="5.10.00.00",
    redfish_version="1.11.0",
    schemas={
        **IDRAC9_4.schemas,
        "ServiceRoot": "v1_8_0",
        "ComputerSystem": "v1_12_0",
        "Manager": "v1_9_0",
        "UpdateService": "v1_8_1",
    },
    registry="IDRAC.2.8",
    apply_times=("Immediate", "OnReset", "OnStartUpdateRequest"),
    start_update_action=True,
    dell_job_start_time_sentinel=False,
)
IDRAC9_7 = replace(
    IDRAC9_5,
    name="idrac9-7.x",
    idrac_version="7.00.00.00",
    redfish_version="1.17.0",
    schemas={
        **IDRAC9_5.schemas,
        "ServiceRoot": "v1_11_0",
        "ComputerSystem": "v1_16_0",
        "Manager": "v1_12_0",
        "UpdateService": "v1_11_0",
        "SoftwareInventory": "v1_10_2",
        "Task": "v1_5_1",
    },
    registry="IDRAC.2.9",
    system_last_reset_time=True,
    manager_last_reset_time=True,
    pldm_inventory_fields=True,
)
PERSONALITIES: dict[str, Personality] = {p.name: p for p in (IDRAC9_4, IDRAC9_5, IDRAC9_7)}
