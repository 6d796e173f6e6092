"""A stand-in with exactly the names docs/api.md promises for ``CampaignWorkflow``.

Not a mock of Temporal: it runs on the real dev server, so the API's start, signals,
update and query are exercised end to end. The real workflow replaces it later and must
keep these names and shapes.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from domain.campaign_spec import (
    CAMPAIGN_WORKFLOW,
    QUERY_STATUS,
    SIGNAL_PAUSE,
    SIGNAL_RESUME,
    UPDATE_ABORT,
    AbortRequest,
    CampaignStartInput,
)


@workflow.defn(name=CAMPAIGN_WORKFLOW)
class CampaignContractWorkflow:
    def __init__(self) -> None:
        self.paused = False
        self.abort_reason: str | None = None
        self.campaign_id: int | None = None

    @workflow.run
    async def run(self, start: CampaignStartInput) -> dict[str, Any]:
        self.campaign_id = start.campaign_id
        await workflow.wait_condition(lambda: self.abort_reason is not None and not self.paused)
        return {"aborted": self.abort_reason}

    @workflow.signal(name=SIGNAL_PAUSE)
    def pause(self) -> None:
        self.paused = True

    @workflow.signal(name=SIGNAL_RESUME)
    def resume(self) -> None:
        self.paused = False

    @workflow.update(name=UPDATE_ABORT)
    def abort(self, request: AbortRequest) -> str:
        self.abort_reason = request.reason
        return "aborting"

    @abort.validator
    def _validate_abort(self, request: AbortRequest) -> None:
        if self.abort_reason is not None:
            raise ValueError(f"already aborting: {self.abort_reason}")

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "paused": self.paused}
