"""Change approval inside ``CampaignWorkflow``: after planning, the campaign waits for N
approvals from distinct approvers who did not create it, or a rejection, or the expiry.

The wait is one ``wait_condition`` whose timeout comes from the spec (in the workflow's
input, so in its history): replay sees the same durable timer, never a wall-clock test.
Who may approve (the approver right) is the API's check; this gate checks what only the
workflow knows: the creator, who already approved, and whether it still waits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.campaign_spec import ApprovalDecision, ApprovalPolicy

APPROVALS = "approvals"


class ApprovalGate:
    def __init__(self, policy: ApprovalPolicy, creator: str | None) -> None:
        self.policy = policy
        self.creator = creator
        self.approved_by: list[str] = []
        self.rejection: str | None = None
        self.expired = False

    @property
    def approved(self) -> bool:
        return len(self.approved_by) >= self.policy.required_approvals

    @property
    def decided(self) -> bool:
        return self.approved or self.rejection is not None or self.expired

    def waiting_reason(self) -> str:
        return f"waiting for approval ({len(self.approved_by)} of {self.policy.required_approvals})"

    def check(self, decision: ApprovalDecision) -> None:
        """The update validators: refused here, nothing reaches the history."""
        if self.decided:
            raise ValueError("the campaign no longer waits for approval")
        if decision.approver == self.creator:
            raise ValueError("the campaign's creator cannot approve or reject it")
        if decision.approver in self.approved_by:
            raise ValueError(f"{decision.approver} has already approved this campaign")

    def approve(self, decision: ApprovalDecision) -> str:
        self.approved_by.append(decision.approver)
        return self.waiting_reason() if not self.approved else "approved: the campaign starts"

    def reject(self, decision: ApprovalDecision) -> str:
        self.rejection = f"rejected by {decision.approver}: {decision.reason or 'no reason'}"
        return "rejected: the campaign ends without touching a host"

    async def wait(self, stopped: Callable[[], bool]) -> str | None:
        """None once approved; else why the campaign must end (rejected or expired). Also
        returns when STOPPED becomes true (an operator's abort), with that reason left to
        the caller."""
        hours = self.policy.expires_after_hours
        try:
            await workflow.wait_condition(
                lambda: self.decided or stopped(),
                timeout=timedelta(hours=hours),
                timeout_summary="approval expiry",
            )
        except TimeoutError:
            self.expired = True
            return (
                f"approval expired after {hours:g} h with {len(self.approved_by)} of "
                f"{self.policy.required_approvals} approvals"
            )
        return self.rejection
