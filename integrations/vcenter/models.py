"""The inventory as the orchestrator sees it: plain pydantic models, no pyvmomi objects."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.capacity import AdmissionControl
from domain.evacuation import VmHostRule, VmVmRule


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VmInfo(FrozenModel):
    name: str
    moid: str
    host: str | None
    power_state: str
    num_cpu: int
    memory_mb: int
    cpu_reservation_mhz: int = 0
    memory_reservation_mb: int = 0
    cpu_usage_mhz: int = 0
    memory_usage_mb: int = 0

    @property
    def powered_on(self) -> bool:
        return self.power_state == "poweredOn"


class HostInfo(FrozenModel):
    name: str
    moid: str
    datacenter: str | None
    cluster: str | None
    service_tag: str | None = Field(description="ServiceTag identifier, else serial number")
    vendor: str | None
    model: str | None
    connection_state: str
    power_state: str
    in_maintenance: bool
    management_ip: str | None
    cpu_cores: int
    cpu_mhz_per_core: int
    memory_mb: int
    vms: list[VmInfo] = Field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.connection_state == "connected"

    @property
    def powered_on_vms(self) -> list[VmInfo]:
        return [vm for vm in self.vms if vm.powered_on]


class DrsInfo(FrozenModel):
    enabled: bool
    automation: str | None = Field(description="manual, partiallyAutomated, fullyAutomated")

    @property
    def fully_automated(self) -> bool:
        return self.enabled and self.automation == "fullyAutomated"


class HaInfo(FrozenModel):
    enabled: bool
    admission_control_enabled: bool
    policy: AdmissionControl = "none"
    failover_hosts: list[str] = Field(default_factory=list, description="dedicated hosts")
    failover_level: int = Field(default=0, description="host failures tolerated (slot policy)")
    cpu_failover_percent: int = 0
    memory_failover_percent: int = 0


class ClusterInfo(FrozenModel):
    name: str
    moid: str
    resource_pool_moid: str | None = None
    datacenter: str | None
    drs: DrsInfo
    ha: HaInfo
    host_rules: list[VmHostRule] = Field(
        default_factory=list, description="enabled VM-host rules, must and should"
    )
    vm_rules: list[VmVmRule] = Field(
        default_factory=list, description="enabled VM-VM affinity and anti-affinity rules"
    )
    hosts: list[HostInfo] = Field(default_factory=list)


class DatacenterInfo(FrozenModel):
    name: str
    clusters: list[ClusterInfo] = Field(default_factory=list)
    standalone_hosts: list[HostInfo] = Field(default_factory=list)


class Inventory(FrozenModel):
    datacenters: list[DatacenterInfo]

    def clusters(self) -> list[ClusterInfo]:
        return [c for dc in self.datacenters for c in dc.clusters]

    def hosts(self) -> list[HostInfo]:
        standalone = [h for dc in self.datacenters for h in dc.standalone_hosts]
        return [h for c in self.clusters() for h in c.hosts] + standalone

    def cluster(self, name: str) -> ClusterInfo | None:
        return next((c for c in self.clusters() if c.name == name), None)

    def host(self, name: str) -> HostInfo | None:
        return next((h for h in self.hosts() if name in (h.name, h.service_tag)), None)

    def cluster_of(self, host: HostInfo) -> ClusterInfo | None:
        return self.cluster(host.cluster) if host.cluster else None
