"""The fleet file: one YAML document describing a simulated datacenter.

The vCenter simulator and the iDRAC simulator both read it, so service tags, models
and clusters always match. README documents the format; examples/ has working files.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common import safe_yaml
from simulators.idrac.personality import NEWEST, PersonalityName

IdracLicenseLevel = Literal["Express", "Enterprise", "Datacenter"]


class FleetFileError(ValueError):
    """The fleet file cannot be used; the message names the file, the field and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VMSpec(_Strict):
    name: str = Field(min_length=1)
    cpus: int = Field(default=2, ge=1, le=256)
    memory_mb: int = Field(default=4096, ge=128)
    powered_on: bool = True
    cpu_reservation_mhz: int = Field(default=0, ge=0)
    memory_reservation_mb: int = Field(default=0, ge=0)
    local_storage: bool = Field(default=False, description="on a datastore only its host mounts")
    pinned_to_host: bool = Field(default=False, description="mandatory VM-host affinity rule")
    passthrough: bool = Field(default=False, description="has a PCI passthrough device")


class HostFaults(_Strict):
    """Faults the iDRAC simulator injects for one host (also settable at run time)."""

    job_fails: str | None = Field(
        default=None, description="update jobs fail with this MessageId, e.g. RED007"
    )
    job_hangs: bool = Field(default=False, description="update jobs stay Running forever")
    job_held: bool = Field(
        default=False,
        description="update jobs stay Running until this is cleared (a test's sync point: "
        "an update still under way, however slow the machine)",
    )
    download_fails: bool = Field(default=False, description="image transfer fails (SYS261)")
    version_unchanged: bool = Field(
        default=False, description="jobs complete but the installed version does not change"
    )
    unreachable_s: float = Field(
        default=0.0, ge=0, description="extra offline seconds on every iDRAC reset"
    )
    busy_503: int = Field(default=0, ge=0, description="answer the next N requests with 503")
    submit_busy: int = Field(
        default=0, ge=0, description="answer the next N update submissions with 503 RAC0679"
    )
    session_limit: bool = Field(default=False, description="session creation answers RAC0218")
    wrong_credentials: bool = Field(default=False, description="reject every login")
    lc_stuck_not_ready: bool = Field(
        default=False, description="Lifecycle Controller never becomes Ready"
    )
    graceful_ignored: bool = Field(
        default=False, description="the OS ignores GracefulRestart (needs ForceRestart)"
    )
    critical_after_boot: bool = Field(
        default=False,
        description="a part fails its self-test at the next boot: health Critical from then on",
    )
    critical_with_version: str | None = Field(
        default=None,
        description="a bad firmware release: health Critical after every boot with this "
        "version installed (any component), OK again after a boot without it (a rollback)",
    )
    fan_failed: bool = Field(
        default=False, description="one fan stops: 0 RPM, fan and system health Critical"
    )


class HostSpec(_Strict):
    name: str = Field(min_length=1, description="ESXi host name as vCenter knows it")
    service_tag: str = Field(pattern=r"^[A-Z0-9]{5,7}$")
    model: str = "PowerEdge R750"
    system_id: int = Field(default=0x0A6B, ge=0, description="Dell SystemID")
    idrac_address: str | None = Field(default=None, description="loopback address of its iDRAC")
    management_ip: str | None = Field(default=None, description="ESXi vmk0 address vCenter shows")
    cpu_cores: int = Field(default=32, ge=1)
    cpu_mhz: int = Field(default=2600, ge=100)
    memory_mb: int = Field(default=524288, ge=1024)
    vms: list[VMSpec] = Field(default_factory=list)
    firmware: dict[str, str] = Field(
        default_factory=dict, description="component name -> installed version"
    )
    idrac_username: str = Field(default="root", min_length=1)
    idrac_password: str = Field(default="calvin", min_length=1)  # Dell's factory default
    generic: bool = Field(default=False, description="iDRAC shows no Dell OEM (plain Redfish)")
    personality: PersonalityName = Field(
        default=NEWEST, description="the iDRAC9 firmware line the simulator plays"
    )
    idrac_license: IdracLicenseLevel = Field(
        default="Enterprise", description="the iDRAC license installed (its DellLicenses)"
    )
    faults: HostFaults = Field(default_factory=HostFaults)
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="this server's own durations in real-hardware seconds, by the iDRAC "
        "simulator's Timings field (e.g. post: 131.5); the rest keep the defaults",
    )

    @field_validator("idrac_address")
    @classmethod
    def _loopback_only(cls, value: str | None) -> str | None:
        if value is not None and not ipaddress.ip_address(value).is_loopback:
            raise ValueError(f"{value} is not a loopback address (simulators stay on 127.0.0.0/8)")
        return value


class DrsSpec(_Strict):
    enabled: bool = True
    automation: Literal["manual", "partiallyAutomated", "fullyAutomated"] = "fullyAutomated"


class HaSpec(_Strict):
    enabled: bool = True
    admission_control: Literal["none", "failover_hosts", "failover_level", "percentage"] = (
        "failover_level"
    )
    failover_hosts: int = Field(default=1, ge=0)
    failover_level: int = Field(default=1, ge=0)
    cpu_failover_percent: int = Field(default=25, ge=0, le=100)
    memory_failover_percent: int = Field(default=25, ge=0, le=100)


class ClusterSpec(_Strict):
    name: str = Field(min_length=1)
    drs: DrsSpec = Field(default_factory=DrsSpec)
    ha: HaSpec = Field(default_factory=HaSpec)
    vms_per_host: int = Field(
        default=0, ge=0, description="generated VMs added to each host's own list"
    )
    hosts: list[HostSpec] = Field(min_length=1)

    def vms_of(self, host: HostSpec) -> list[VMSpec]:
        generated = [VMSpec(name=f"{host.name}-vm{i:02d}") for i in range(self.vms_per_host)]
        return host.vms + generated


class DatacenterSpec(_Strict):
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    clusters: list[ClusterSpec] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone") from None
        return value


class VCenterSpec(_Strict):
    username: str = "administrator@vsphere.local"
    password: str = "vmware"  # noqa: S105  (the simulator's default login, not a secret)


class Fleet(_Strict):
    vcenter: VCenterSpec = Field(default_factory=VCenterSpec)
    datacenters: list[DatacenterSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Fleet:
        _require_unique("datacenter name", [dc.name for dc in self.datacenters])
        _require_unique("cluster name", [c.name for _, c in self.clusters()])
        hosts = [h for _, _, h in self.hosts()]
        _require_unique("host name", [h.name for h in hosts])
        _require_unique("service_tag", [h.service_tag for h in hosts])
        _require_unique("idrac_address", [h.idrac_address for h in hosts if h.idrac_address])
        return self

    def clusters(self) -> list[tuple[DatacenterSpec, ClusterSpec]]:
        return [(dc, c) for dc in self.datacenters for c in dc.clusters]

    def hosts(self) -> list[tuple[DatacenterSpec, ClusterSpec, HostSpec]]:
        return [(dc, c, h) for dc, c in self.clusters() for h in c.hosts]


def _require_unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


def load_fleet(path: Path) -> Fleet:
    try:
        document = safe_yaml.load(path.read_text())
    except OSError as exc:
        raise FleetFileError(f"{path}: cannot read: {exc.strerror}") from None
    except (yaml.YAMLError, safe_yaml.YamlTooLargeError) as exc:
        raise FleetFileError(f"{path}: not valid YAML: {exc}") from None
    try:
        return Fleet.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise FleetFileError(f"{path}: {problems}") from None
