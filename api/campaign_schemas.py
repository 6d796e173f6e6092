"""Request and response bodies of the campaign endpoints (the CLI validates files with
``CampaignCreate`` too, so a bad file fails there with the API's own errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.campaign_status import Status
from api.crud import RefId
from domain.campaign_spec import CampaignSpec
from domain.runbook import ComponentOutcome, RolloutProblem


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=128, examples=["BIOS 2.19 rollout"])]
    spec: CampaignSpec
    window_ids: list[RefId] = Field(
        default_factory=list,
        max_length=50,
        description="Stored maintenance windows to copy into spec.windows.",
    )


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    spec: CampaignSpec
    status: Status = Field(
        description="The campaign's own state: `created`; while it runs `planning`, "
        "`awaiting_approval`, `running`, `paused`, `aborting`; once ended `completed`, "
        "`finished_with_failures`, `halted`, "
        "`aborted`, or, when its workflow closed without a result, `terminated`, "
        "`timed_out`, `failed`, `canceled`. Never Temporal's execution status."
    )
    status_reason: str | None = Field(
        description="Why it ended so: the stop reason, or how the workflow was closed.",
        examples=["3 failed host(s) reached the campaign threshold of 3"],
    )
    workflow_id: str | None
    run_id: str | None
    created_by: str
    abort_reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None = Field(description="When its workflow closed.")
    updated_at: datetime


class LiveStatus(BaseModel):
    available: bool = Field(description="True when the workflow answered (query or result).")
    temporal_status: str | None = Field(
        description="Temporal's execution status of the workflow, not the campaign's state: "
        "a halted campaign's workflow is COMPLETED.",
        examples=["RUNNING"],
    )
    status: dict[str, Any] | None = Field(
        description="The workflow's `status` query while it runs, its result once closed."
    )
    detail: str | None = Field(examples=["no worker answered the status query within 2s"])
    clusters: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each running cluster rollout's `status` query: state, why it waits "
        "(window, capacity, pause), hosts running with their current step, pending hosts.",
    )


class CampaignDetail(CampaignOut):
    problems: list[RolloutProblem] = Field(
        description="Cluster rollouts that cannot progress by themselves (their workflow task "
        "keeps failing): each needs a human.",
    )
    live: LiveStatus | None = Field(description="Null until the campaign is started.")


class HostUpdateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    server_id: int
    attempt: int
    status: str = Field(
        description="`updated`; `compliant` (unchanged: already at target, untouched); "
        "`failed` (no firmware changed: untouched, or back in service); `rolled_back` "
        "(reverted: a change was undone, back in service); `held` (in maintenance for a "
        "human, alert raised).",
        examples=["rolled_back"],
    )
    step: str | None = Field(description="The step that failed, e.g. `preflight`.")
    detail: str | None
    started_at: datetime | None
    finished_at: datetime | None
    components: list[ComponentOutcome] | None = Field(
        default=None,
        description="Per targeted component: versions before and after and `updated`, "
        "`unchanged`, `reverted`, `failed` or `held`. Null for rows recorded before this "
        "was kept.",
    )
