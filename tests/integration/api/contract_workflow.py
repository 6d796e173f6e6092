"""A stand-in with exactly the names and shapes docs/api.md promises for ``CampaignWorkflow``.

Not a mock of Temporal: it runs on the real dev server, so the API's start, signals,
update, query and result reading are exercised end to end. Its ``status`` query answers a
``CampaignStatus`` and it returns a ``CampaignResult``, as the real workflow does. The real
workflow reaches its end by itself (hosts finish, fail, reach the failure threshold); the
stand-in is told which end to reach with the test-only ``finish`` signal.
"""

from __future__ import annotations

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
from domain.runbook import CampaignResult, CampaignState, CampaignStatus

SIGNAL_FINISH = "finish"


@workflow.defn(name=CAMPAIGN_WORKFLOW)
class CampaignContractWorkflow:
    def __init__(self) -> None:
        self.campaign_id = 0
        self.state = CampaignState.RUNNING
        self.paused = False
        self.abort_reason: str | None = None
        self.stop_reason: str | None = None
        self.end: CampaignState | None = None

    @workflow.run
    async def run(self, start: CampaignStartInput) -> CampaignResult:
        self.campaign_id = start.campaign_id
        await workflow.wait_condition(lambda: self.end is not None and not self.paused)
        assert self.end is not None
        return CampaignResult(
            campaign_id=self.campaign_id,
            state=self.end,
            stop_reason=self.stop_reason,
            clusters=[],
            unresolved=[],
        )

    @workflow.signal(name=SIGNAL_PAUSE)
    def pause(self) -> None:
        self.paused = True

    @workflow.signal(name=SIGNAL_RESUME)
    def resume(self) -> None:
        self.paused = False

    @workflow.signal(name=SIGNAL_FINISH)
    def finish(self, end: CampaignState, stop_reason: str | None) -> None:
        """Test only: end as the real workflow would have, e.g. halted by the threshold."""
        self.end, self.stop_reason = end, stop_reason

    @workflow.update(name=UPDATE_ABORT)
    def abort(self, request: AbortRequest) -> str:
        self.abort_reason = request.reason
        self.state, self.end = CampaignState.ABORTING, CampaignState.ABORTED
        self.stop_reason = f"aborted by an operator: {request.reason}"
        return "aborting"

    @abort.validator
    def _validate_abort(self, request: AbortRequest) -> None:
        if self.abort_reason is not None:
            raise ValueError(f"already aborting: {self.abort_reason}")

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> CampaignStatus:
        paused = self.paused and self.state == CampaignState.RUNNING
        return CampaignStatus(
            campaign_id=self.campaign_id,
            state=CampaignState.PAUSED if paused else self.state,
            stop_reason=self.stop_reason,
            clusters=[],
            hosts_in_flight=[],
            outcomes=[],
            unresolved=[],
        )
