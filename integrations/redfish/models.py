"""Client options and the typed results of the Redfish client."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Credentials(BaseModel):
    username: str = Field(min_length=1)
    password: SecretStr


class ClientOptions(BaseModel):
    """Connection and waiting policy; defaults follow what Dell's own tools allow."""

    model_config = ConfigDict(frozen=True)

    ca_bundle: Path | None = Field(default=None, description="PEM file of CAs to trust")
    insecure: bool = Field(default=False, description="explicitly skip TLS verification")
    auth: Literal["session", "basic"] = "session"
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=120.0, gt=0)  # $expand inventory is slow on iDRAC
    retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=2.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    poll_interval_s: float = Field(default=10.0, gt=0)
    job_timeout_s: float = Field(default=1800.0, gt=0)  # DRS gives up after 30 min
    task_404_grace_s: float = Field(default=30.0, ge=0)  # sushy: 3 x 10 s
    idrac_offline_timeout_s: float = Field(default=900.0, gt=0)  # OMAM waits up to 900 s
    reboot_grace_s: float = Field(default=300.0, ge=0)  # DRS: 5 min graceful, then force
    host_back_timeout_s: float = Field(default=3000.0, gt=0)  # DRS: 50 min reboot phase
    lc_ready_timeout_s: float = Field(default=960.0, gt=0)  # SOI: 96 x 10 s
    lc_settle_s: float = Field(default=30.0, ge=0)  # how long a stale "Ready" may linger
    ready_confirmations: int = Field(default=3, ge=1)  # consecutive good answers

    @model_validator(mode="after")
    def _one_trust_mode(self) -> ClientOptions:
        if self.insecure and self.ca_bundle:
            raise ValueError("ca_bundle and insecure exclude each other")
        if self.ca_bundle and not self.ca_bundle.is_file():
            raise ValueError(f"ca_bundle {self.ca_bundle} is not a readable file")
        return self


class SystemIdentity(BaseModel):
    vendor: str
    model: str
    service_tag: str
    dell_system_id: int | None = None
    bios_version: str | None = None
    bmc_version: str | None = None
    power_state: str | None = None
    health: str | None = None
    health_rollup: str | None = None
    dell_oem: bool


class LifecycleStatus(BaseModel):
    ready: bool
    lc_status: str | None = None
    server_status: str | None = None
    status: str | None = None


class ImageKind(StrEnum):
    INSTALLED = "installed"
    PREVIOUS = "previous"
    AVAILABLE = "available"


class FirmwareComponent(BaseModel):
    id: str
    uri: str
    name: str
    version: str
    component_id: str | None = None
    fqdd: str | None = None
    kind: ImageKind = ImageKind.INSTALLED
    updateable: bool = False

    @property
    def key(self) -> str:
        """Identity of the device across versions (same key before and after an update)."""
        return f"{self.component_id or self.name}|{self.fqdd or ''}"


class FirmwareInventory(BaseModel):
    components: list[FirmwareComponent]

    def installed(self) -> list[FirmwareComponent]:
        """One entry per device (iDRAC lists BIOS as both Installed- and Current-)."""
        seen: dict[str, FirmwareComponent] = {}
        for component in self.components:
            if component.kind is ImageKind.INSTALLED:
                seen.setdefault(component.key, component)
        return list(seen.values())

    def previous(self) -> list[FirmwareComponent]:
        return [c for c in self.components if c.kind is ImageKind.PREVIOUS]


class VersionChange(BaseModel):
    name: str
    component_id: str | None
    fqdd: str | None
    before: str | None
    after: str | None


class UpdateCapabilities(BaseModel):
    simple_update_target: str | None
    transfer_protocols: list[str] | None  # None: URI-based SimpleUpdate not offered
    apply_times: list[str]
    multipart_push_uri: str | None
    targets_required: bool = False  # SimpleUpdateActionInfo: Targets Required


class JobStatus(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    SCHEDULED = "scheduled"  # waits for a host reboot
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_NEEDS_REBOOT = "completed-needs-reboot"
    FAILED = "failed"
    IDRAC_OFFLINE = "idrac-offline"  # not a job state: the iDRAC itself is resetting

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.COMPLETED_NEEDS_REBOOT, JobStatus.FAILED)


class JobRef(BaseModel):
    job_id: str
    location: str  # the 202's Location: the task itself, or a DMTF task monitor
    task: str | None = None  # the task resource, where the 202 named one apart from it


class JobInfo(BaseModel):
    job_id: str
    status: JobStatus
    state: str | None = None  # the raw JobState / TaskState
    percent: int | None = None
    message: str | None = None
    message_id: str | None = None
    name: str | None = None
    source: str = "task"

    def describe(self) -> str:
        text = f"{self.job_id} {self.status.value}"
        if self.percent is not None:
            text += f" {self.percent}%"
        if self.message:
            text += f": {self.message_id + ' ' if self.message_id else ''}{self.message}"
        return text


class UpdateOutcome(BaseModel):
    job: JobInfo
    rebooted: bool = False
    forced_reboot: bool = False
    pending_reboot: bool = False  # scheduled (or applied) but waits for a reboot not requested
    changes: list[VersionChange] = Field(default_factory=list)
