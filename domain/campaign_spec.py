"""The campaign spec: what an operator asks for, validated before anything runs.

Pure pydantic (no SQLModel, no wall clock), so the same model is the API's request body,
the stored record and the input of ``CampaignWorkflow`` inside the Temporal sandbox. Every
rule lives here, so a bad spec fails with an error naming the field whichever door it came
in through.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.windows import IsoText, LocalClock, check_schedulable, check_timezone

# The contract between the API and the campaign workflow (see docs/api.md).
CAMPAIGN_WORKFLOW = "CampaignWorkflow"
SIGNAL_PAUSE = "pause"
SIGNAL_RESUME = "resume"
UPDATE_ABORT = "abort"
UPDATE_APPROVE = "approve"
UPDATE_REJECT = "reject"
QUERY_STATUS = "status"


def campaign_workflow_id(campaign_id: int) -> str:
    """Same campaign, same workflow id: starting twice cannot run it twice."""
    return f"campaign-{campaign_id}"


SERVICE_TAG = re.compile(r"^[A-Z0-9]{7}$")

# Bounds on what one campaign may list. They keep validation and planning cheap (the window
# math runs inside a workflow task, which must finish well under 2 s, and its cost grows with
# the number of windows), and keep the workflow input well below Temporal's payload limit
# (2 MB by default: a larger input is refused at start, after the campaign was stored). A
# bigger rollout is several campaigns.
MAX_CLUSTERS = 1000
MAX_HOSTS = 5000
MAX_FIRMWARE = 100
MAX_WINDOWS = 20
MAX_SPEC_BYTES = 512 * 1024
"""Serialised size of a spec; Temporal warns above 512 KiB per payload and refuses 2 MiB."""
Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\s].*$")]
ComponentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")]


def no_repeats(values: list[str], problem: str) -> list[str]:
    """Refuse repeated items in linear time (a 40,000-item list once took 41 s here)."""
    seen: set[str] = set()
    repeated = []
    for index, item in enumerate(values):
        if item in seen:
            repeated.append(index)
        seen.add(item)
    if repeated:
        raise ValueError(f"{problem} (again at {positions(repeated)})")
    return values


def positions(indexes: list[int]) -> str:
    """Where in a list the bad items are; errors name places, never submitted values."""
    shown = ", ".join(str(i) for i in indexes[:10])
    more = f" and {len(indexes) - 10} more" if len(indexes) > 10 else ""
    return f"position{'s' if len(indexes) > 1 else ''} {shown}{more}"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SITE_TIMEZONE = "site"
"""A window's timezone that is each site's own: "Saturday 22:00 local at every site"."""


def _window_timezone(value: str) -> str:
    return value if value == SITE_TIMEZONE else check_timezone(value)


WindowTimezone = Annotated[
    str,
    AfterValidator(_window_timezone),
    Field(
        description=f"IANA timezone, or {SITE_TIMEZONE!r}: each cluster's datacenter's own",
        examples=["Europe/Amsterdam", SITE_TIMEZONE],
    ),
]
ScopeNames = Annotated[
    list[Name],
    AfterValidator(lambda names: no_repeats(names, "name listed more than once")),
    Field(max_length=MAX_CLUSTERS),
]


class _Scoped(_Spec):
    """Where a window applies: empty lists mean everywhere; both set, both must match."""

    datacenters: ScopeNames = Field(
        default_factory=list, description="Datacenters it gates (empty: all)"
    )
    clusters: ScopeNames = Field(default_factory=list, description="Clusters it gates (empty: all)")

    def applies_to(self, datacenter: str, cluster: str) -> bool:
        return (not self.datacenters or datacenter in self.datacenters) and (
            not self.clusters or cluster in self.clusters
        )


class WeeklyWindow(_Scoped):
    """Open every listed weekday from ``start`` (local time) for ``duration_minutes``."""

    kind: Literal["weekly"] = "weekly"
    timezone: WindowTimezone
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        min_length=1, description="0 = Monday ... 6 = Sunday", examples=[[5, 6]]
    )
    start: LocalClock = Field(description="Local start time, HH:MM", examples=["22:00"])
    duration_minutes: int = Field(ge=1, le=7 * 24 * 60, examples=[360])

    @field_validator("weekdays")
    @classmethod
    def _distinct_days(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("weekdays must not repeat")
        return sorted(value)


class OneOffWindow(_Scoped):
    """Open once, between two absolute instants (offsets required)."""

    kind: Literal["once"] = "once"
    timezone: WindowTimezone
    starts_at: Annotated[datetime, IsoText] = Field(examples=["2026-12-05T22:00:00+01:00"])
    ends_at: Annotated[datetime, IsoText] = Field(examples=["2026-12-06T04:00:00+01:00"])

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a UTC offset, e.g. 2026-12-05T22:00:00+01:00")
        return check_schedulable(value)

    @model_validator(mode="after")
    def _ordered(self) -> OneOffWindow:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


Window = Annotated[WeeklyWindow | OneOffWindow, Field(discriminator="kind")]


class Targets(_Spec):
    """Which hosts: whole clusters, ESXi host names and/or Dell service tags (union)."""

    clusters: list[Name] = Field(
        default_factory=list, max_length=MAX_CLUSTERS, examples=[["prod-a"]]
    )
    hosts: list[Name] = Field(
        default_factory=list, max_length=MAX_HOSTS, examples=[["esx01.example.test"]]
    )
    service_tags: list[str] = Field(
        default_factory=list, max_length=MAX_HOSTS, examples=[["ABC1234"]]
    )

    @field_validator("service_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [tag.strip().upper() for tag in value]
        bad = [index for index, tag in enumerate(tags) if not SERVICE_TAG.match(tag)]
        if bad:
            # Positions, not values: a mistyped field may hold anything (docs/api.md).
            raise ValueError(f"not a Dell service tag (7 letters/digits) at {positions(bad)}")
        return tags

    @field_validator("clusters", "hosts", "service_tags")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return no_repeats(value, "listed more than once")

    @model_validator(mode="after")
    def _not_empty(self) -> Targets:
        if not (self.clusters or self.hosts or self.service_tags):
            raise ValueError("name at least one cluster, host or service tag")
        return self


class FirmwareTarget(_Spec):
    """One component brought to one version from one uploaded package."""

    component_id: ComponentId = Field(description="Dell component id", examples=["159"])
    version: str = Field(min_length=1, max_length=64, examples=["7.10.70.00"])
    package_id: int = Field(ge=1, description="id of the firmware package", examples=[1])


class RebootPolicy(_Spec):
    mode: Literal["graceful", "force"] = "graceful"
    grace_period_s: int = Field(
        default=600,
        ge=0,
        le=3600,
        description="How long a graceful shutdown may take before the host is forced off.",
    )

    @model_validator(mode="after")
    def _grace_only_when_graceful(self) -> RebootPolicy:
        if self.mode == "force" and self.grace_period_s:
            raise ValueError("grace_period_s must be 0 when mode is force")
        return self


class ApprovalPolicy(_Spec):
    """Change approval: the campaign waits after planning, before any host is touched."""

    required_approvals: int = Field(
        ge=1, le=10, description="Approvals needed from distinct approvers, never its creator."
    )
    expires_after_hours: float = Field(
        default=72,
        gt=0,
        le=24 * 30,
        description="Hours the campaign waits for approval once planned (fractions allowed: "
        "0.5 is 30 minutes); then it ends unstarted. Per cluster: hours each cluster waits.",
    )
    per_cluster: bool = Field(
        default=False,
        description="Approve each cluster on its own: the campaign starts at once and every "
        "cluster waits for its own approvals before its first host; a rejected or expired "
        "cluster ends with no host touched while the others go on.",
    )


class Policy(_Spec):
    max_concurrent_per_cluster: int = Field(default=1, ge=1, le=64)
    min_hosts_online: int = Field(
        default=2, ge=0, description="Hosts of a cluster that must stay out of maintenance."
    )
    global_max_concurrent: int = Field(default=10, ge=1, le=1000)
    cluster_failure_threshold: int = Field(
        default=1, ge=1, description="Failed hosts at which a cluster's rollout stops."
    )
    campaign_failure_threshold: int = Field(
        default=3, ge=1, description="Failed hosts at which the whole campaign stops."
    )
    on_failure: Literal["rollback", "hold"] = Field(
        default="hold",
        description="rollback: reinstall the previous firmware (also when the new firmware "
        "verified but the host is unhealthy after it), check the host again and exit "
        "maintenance only if healthy; hold: leave the host in maintenance for a human.",
    )
    reboot: RebootPolicy = Field(default_factory=RebootPolicy)
    exit_maintenance_on_success: bool = True
    migrated_vms: Literal["return", "stay"] = Field(
        default="return",
        description="VMs the orchestrator moved off a host itself (DRS not fully automated): "
        "return: moved back once the host is out of maintenance, as nothing else would "
        "rebalance them; stay: left where they went.",
    )

    approval: ApprovalPolicy | None = Field(
        default=None, description="Null: no approval needed before the campaign starts."
    )

    @model_validator(mode="after")
    def _thresholds(self) -> Policy:
        if self.cluster_failure_threshold > self.campaign_failure_threshold:
            raise ValueError("cluster_failure_threshold must not exceed campaign_failure_threshold")
        return self


class CampaignSpec(_Spec):
    targets: Targets
    firmware: list[FirmwareTarget] = Field(min_length=1, max_length=MAX_FIRMWARE)
    windows: list[Window] = Field(
        default_factory=list,
        max_length=MAX_WINDOWS,
        description="Empty: the campaign may run at any time.",
    )
    policy: Policy = Field(default_factory=Policy)

    @field_validator("firmware")
    @classmethod
    def _one_version_per_component(cls, value: list[FirmwareTarget]) -> list[FirmwareTarget]:
        no_repeats([item.component_id for item in value], "component listed more than once")
        return value

    @model_validator(mode="after")
    def _fits_a_workflow_input(self) -> CampaignSpec:
        size = len(self.model_dump_json())
        if size > MAX_SPEC_BYTES:
            raise ValueError(
                f"spec is {size} bytes once serialised, over the {MAX_SPEC_BYTES}-byte limit "
                "of a campaign (the workflow engine refuses larger inputs): split it into "
                "several campaigns"
            )
        return self


class CampaignStartInput(_Spec):
    """The input of ``CampaignWorkflow``: ids only, never a secret."""

    campaign_id: int
    spec: CampaignSpec
    created_by: str | None = Field(
        default=None, description="Who created it: never one of its approvers."
    )


class AbortRequest(_Spec):
    """Argument of the ``abort`` update."""

    reason: str = Field(min_length=1, max_length=1000, examples=["vendor recalled the BIOS"])


class ApprovalDecision(_Spec):
    """Argument of the ``approve`` and ``reject`` updates: the API checked the approver's
    right and passes the name it authenticated."""

    approver: str = Field(min_length=1, max_length=255)
    reason: str | None = Field(default=None, max_length=1000)
    cluster: str | None = Field(
        default=None, max_length=255, description="The cluster decided on (per-cluster approval)."
    )


class ApprovalRequest(_Spec):
    """Body of POST /campaigns/{id}/approve."""

    comment: str | None = Field(default=None, max_length=1000)


class RejectRequest(_Spec):
    """Body of POST /campaigns/{id}/reject: a rejection always says why."""

    reason: str = Field(min_length=1, max_length=1000, examples=["no change ticket yet"])
