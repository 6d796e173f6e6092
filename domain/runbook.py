"""Inputs and outputs of the rollout workflows and their activities.

Plain frozen pydantic models: they cross the Temporal boundary (pydantic data converter)
and are built inside the workflow sandbox, so they hold ids and facts, never secrets and
never a default taken from the wall clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.campaign_spec import Policy, Window


class _Io(BaseModel):
    model_config = ConfigDict(frozen=True)


class HostRef(_Io):
    """A host as both managers know it: vCenter by name, the iDRAC by address."""

    name: str
    service_tag: str
    idrac_address: str
    cluster: str
    datacenter: str
    vcenter_id: int | None = None
    server_id: int | None = Field(default=None, description="store id; resolves credentials")


class ComponentTarget(_Io):
    """One component to bring to ``version`` from the package at ``image_uri``."""

    component_id: str
    version: str
    image_uri: str
    needs_host_reboot: bool = True


class HostJob(_Io):
    campaign_id: int
    host: HostRef
    targets: list[ComponentTarget]
    policy: Policy
    estimated_duration_s: int = Field(gt=0, description="how long the runbook should take")
    heartbeat_timeout_s: int = Field(
        default=60, gt=0, description="silence after which a long step is retried elsewhere"
    )
    preflight: Preflight | None = Field(
        default=None,
        description="read while the host waited in its cluster's queue, fresh when it "
        "started: the runbook does not read it again (None: the runbook reads it)",
    )


class HostStep(StrEnum):
    PREFLIGHT = "preflight"
    ENTER_MAINTENANCE = "enter_maintenance"
    STAGE_FIRMWARE = "stage_firmware"
    REBOOT = "reboot"
    VERIFY = "verify"
    WAIT_RECONNECT = "wait_reconnect"
    POST_HEALTH = "post_health"
    EXIT_MAINTENANCE = "exit_maintenance"
    COMPENSATE = "compensate"
    DONE = "done"


class HostStatus(StrEnum):
    """How a host's runbook ended; the names stay as stored by earlier releases."""

    UPDATED = "updated"
    COMPLIANT = "compliant"  # unchanged: already at target, skipped, nothing touched
    FAILED = "failed"  # failed, no firmware changed: untouched or back in service
    ROLLED_BACK = "rolled_back"  # reverted: failed, a change undone, back in service
    HELD = "held"  # failed, left in maintenance for a human (alert raised)


class ComponentStatus(StrEnum):
    """What a run did to one targeted component (see ``component_outcomes``)."""

    UPDATED = "updated"  # now at its target, changed by this run
    UNCHANGED = "unchanged"  # at the version it had before (at target already, or not applied)
    REVERTED = "reverted"  # this run installed its target, then put the previous one back
    FAILED = "failed"  # at neither its previous nor its target version, or not readable
    HELD = "held"  # changed (or unreadable) on a host held for a human: nothing undone


class ComponentOutcome(_Io):
    component_id: str
    target: str = Field(description="the version the campaign asked for")
    before: str | None = Field(description="installed when the runbook started; null: not read")
    after: str | None = Field(description="installed when it ended; null: not read")
    status: ComponentStatus

    def describe(self) -> str:
        """``159 2.10.0 -> 2.11.2 updated`` (``?``: not read), as every view words it."""
        return f"{self.component_id} {self.before or '?'} -> {self.after or '?'} {self.status}"


def component_outcomes(
    targets: list[ComponentTarget],
    before: Mapping[str, str],
    after: Mapping[str, str] | None,
    reverted: Collection[str],
    held: bool,
) -> list[ComponentOutcome]:
    """Each target judged by its versions before and after, not by what the jobs said."""
    outcomes = []
    for target in targets:
        was = before.get(target.component_id)
        now = None if after is None else after.get(target.component_id)
        if target.component_id in reverted:
            status = ComponentStatus.REVERTED
        elif now == was:
            status = ComponentStatus.UNCHANGED
        elif held:
            status = ComponentStatus.HELD
        elif now == target.version:
            status = ComponentStatus.UPDATED
        else:
            status = ComponentStatus.FAILED
        outcomes.append(
            ComponentOutcome(
                component_id=target.component_id,
                target=target.version,
                before=was,
                after=now,
                status=status,
            )
        )
    return outcomes


class HostOutcome(_Io):
    service_tag: str
    status: HostStatus
    failed_step: HostStep | None = None
    reason: str = ""
    started_at: datetime
    finished_at: datetime
    components: list[ComponentOutcome] = Field(
        default_factory=list, description="per targeted component; empty from older releases"
    )
    maintenance_refused: bool = Field(
        default=False,
        description="vCenter refused maintenance before any firmware job ran, and the host "
        "is back in service untouched: its rollout may queue it again",
    )

    def describe(self) -> str:
        """The status, where it failed, each component and why: the audited wording."""
        step = f" at {self.failed_step}" if self.failed_step else ""
        parts = [c.describe() for c in self.components] + ([self.reason] if self.reason else [])
        return f"{self.status}{step}: " + "; ".join(parts) if parts else f"{self.status}{step}"

    @property
    def counts_as_failure(self) -> bool:
        return self.status in (HostStatus.FAILED, HostStatus.ROLLED_BACK, HostStatus.HELD)


# ---- activity I/O -----------------------------------------------------------------------


class IdracPreflight(_Io):
    """What the iDRAC says before anything changes."""

    installed: dict[str, str] = Field(description="component id -> installed version")
    pending: list[ComponentTarget] = Field(description="targets not yet installed")
    blockers: list[str] = Field(description="reasons the host must not be touched now")
    versions: dict[str, str] = Field(
        default_factory=dict, description="target component id -> version installed now"
    )


class FirmwareReading(_Io):
    """The targets' installed versions, read once the host settled (after a rollback, or
    at the end of a failed runbook)."""

    versions: dict[str, str] = Field(description="target component id -> installed version")
    reverted: list[str] = Field(
        default_factory=list, description="target component ids this rollback put back"
    )


class VcenterPreflight(_Io):
    connected: bool
    in_maintenance: bool
    blockers: list[str]


class Preflight(_Io):
    """Both read-only checks of a host, and when the rollout read them."""

    idrac: IdracPreflight
    vcenter: VcenterPreflight
    read_at: datetime


def preflight_verdict(
    idrac: IdracPreflight, vcenter: VcenterPreflight
) -> tuple[HostStatus, str] | None:
    """Why a host's runbook ends at preflight (nothing to do, or it must not be touched);
    None: it has work and nothing stands in the way."""
    if not idrac.pending:
        return HostStatus.COMPLIANT, "every component already at target"
    blockers = idrac.blockers + vcenter.blockers
    if blockers:
        return HostStatus.FAILED, "; ".join(blockers)
    return None


def preflight_outcome(
    job: HostJob,
    status: HostStatus,
    reason: str,
    versions: dict[str, str],
    started: datetime,
    finished: datetime,
) -> HostOutcome:
    """A host whose run ended at preflight was not touched: compliant, or failed there."""
    return HostOutcome(
        service_tag=job.host.service_tag,
        status=status,
        failed_step=HostStep.PREFLIGHT if status is HostStatus.FAILED else None,
        reason=reason,
        started_at=started,
        finished_at=finished,
        components=component_outcomes(job.targets, versions, versions, [], held=False),
    )


class StagedFirmware(_Io):
    """The iDRAC jobs that will apply the targets; reused, never duplicated, on retry."""

    job_ids: list[str]
    reboot_required: bool


class HostRequest(_Io):
    host: HostRef


class StageRequest(_Io):
    host: HostRef
    targets: list[ComponentTarget]
    campaign_id: int | None = Field(
        default=None, description="scopes the signed package links (None: recorded before)"
    )


class RebootRequest(_Io):
    host: HostRef
    mode: str
    grace_period_s: int


class VerifyRequest(_Io):
    host: HostRef
    targets: list[ComponentTarget]
    job_ids: list[str]


class MaintenanceRequest(_Io):
    host: HostRef
    timeout_s: int
    max_concurrent: int = Field(ge=1, description="hosts of the cluster down at once")
    min_hosts_online: int = Field(ge=0)

    @classmethod
    def for_job(cls, job: HostJob, timeout: timedelta) -> MaintenanceRequest:
        return cls(
            host=job.host,
            timeout_s=int(timeout.total_seconds()),
            max_concurrent=job.policy.max_concurrent_per_cluster,
            min_hosts_online=job.policy.min_hosts_online,
        )


class Evacuation(_Io):
    """What entering maintenance moved: empty where DRS evacuated the host."""

    moves: dict[str, str] = Field(
        default_factory=dict, description="VM the orchestrator moved -> host it went to"
    )


class ReturnVmsRequest(_Io):
    """Bring back the VMs the orchestrator moved off the host."""

    host: HostRef
    moves: dict[str, str]
    timeout_s: int


class RollbackRequest(_Io):
    """Undo this run's targets (those it found pending): only a component now AT its target
    version is reverted."""

    host: HostRef
    targets: list[ComponentTarget]
    before: dict[str, str] = Field(
        default_factory=dict,
        description="target component id -> version before this run: how a retry recognises "
        "a revert its dead predecessor finished",
    )


class HealthReport(_Io):
    healthy: bool
    detail: str


class CapacityRequest(_Io):
    cluster: str
    vcenter_id: int | None
    max_concurrent: int
    min_hosts_online: int
    busy_hosts: list[str] = Field(
        description="hosts this rollout is updating: down for capacity even if vCenter "
        "does not show them in maintenance yet"
    )


class ClusterProgress(_Io):
    """What a rollout carries into its next run when it continues as new."""

    outcomes: list[HostOutcome] = Field(default_factory=list)
    paused: bool = False
    slots_requested: list[str] = Field(default_factory=list)
    slots_granted: list[str] = Field(default_factory=list)
    refusals: dict[str, int] = Field(
        default_factory=dict, description="service tag -> times vCenter refused it mid-flight"
    )
    requeued: dict[str, str] = Field(
        default_factory=dict, description="service tag -> why it is back in the queue"
    )
    awaiting_change: list[str] = Field(
        default_factory=list, description="refused hosts that go again only after a change"
    )


class ClusterRollout(_Io):
    campaign_id: int
    cluster: str
    datacenter: str
    vcenter_id: int | None
    hosts: list[HostJob] = Field(description="hosts still to do, in order")
    windows: list[Window]
    policy: Policy
    progress: ClusterProgress = Field(default_factory=ClusterProgress)


class ClusterResult(_Io):
    cluster: str
    outcomes: list[HostOutcome]
    not_started: list[str] = Field(description="service tags never started")
    stopped_reason: str | None = None


class HostSlot(_Io):
    """A cluster asking its campaign for (or giving back) one of the global host slots."""

    cluster_workflow_id: str
    service_tag: str
    work_per_slot_s: float = Field(
        default=0.0,
        description="the cluster's estimated seconds of work left per host it may run at "
        "once: the campaign serves the critical path first, as the rollout plan does",
    )


class ClusterStatus(_Io):
    cluster: str
    state: str
    waiting_reason: str | None
    running: dict[str, str] = Field(description="service tag -> current step")
    outcomes: list[HostOutcome]
    pending: list[str]
    requeued: dict[str, str] = Field(
        default_factory=dict,
        description="service tag -> why a host refused mid-flight is back in the queue",
    )


class CampaignPlan(_Io):
    clusters: list[ClusterRollout]
    unresolved: list[str] = Field(description="targets that matched no known host")


class CampaignState(StrEnum):
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    PAUSED = "paused"
    ABORTING = "aborting"
    COMPLETED = "completed"  # every targeted host updated or already compliant
    FINISHED_WITH_FAILURES = "finished_with_failures"
    HALTED = "halted"  # the campaign failure threshold stopped it
    ABORTED = "aborted"


class RolloutProblem(_Io):
    """A cluster rollout or host runbook that cannot make progress by itself (its workflow
    task keeps failing): the campaign names it, alerts, and on abort ends it from outside."""

    cluster: str
    workflow_id: str
    detail: str
    service_tag: str | None = Field(default=None, description="set for a host's runbook")


class WatchedRollouts(_Io):
    """A campaign's running workflows, read from outside; the watch returns on new problems
    (those in ``known`` are not reported again)."""

    campaign_id: int
    known: list[str] = Field(default_factory=list, description="workflow ids already reported")
    interval_s: float = 5.0


class EndRollout(_Io):
    """End a rollout that cannot stop itself and collect its hosts as their own runbooks
    left them."""

    campaign_id: int
    cluster: str
    service_tags: list[str]
    reason: str


class ClusterApproval(_Io):
    """Where one cluster's own approval stands (policy ``approval.per_cluster``)."""

    cluster: str
    state: Literal["waiting", "approved", "rejected", "expired"]
    required: int
    approved_by: list[str] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="why it was refused")


class CampaignStatus(_Io):
    campaign_id: int
    state: CampaignState
    stop_reason: str | None
    clusters: list[str]
    hosts_in_flight: list[str]
    outcomes: list[HostOutcome]
    unresolved: list[str]
    problems: list[RolloutProblem] = Field(default_factory=list)
    waiting_reason: str | None = None
    approved_by: list[str] = Field(default_factory=list)
    cluster_approvals: list[ClusterApproval] = Field(default_factory=list)


class CampaignResult(_Io):
    campaign_id: int
    state: CampaignState
    stop_reason: str | None
    clusters: list[ClusterResult]
    unresolved: list[str]


HostJob.model_rebuild()  # its preflight's types are defined further down
