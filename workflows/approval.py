"""Change approval inside ``CampaignWorkflow``: after planning, the campaign waits for N
approvals from distinct approvers who did not create it, or a rejection, or the expiry.

The wait is one ``wait_condition`` whose timeout comes from the spec (in the workflow's
input, so in its history): replay sees the same durable timer, never a wall-clock test.
Who may approve (the approver right) is the API's check; this gate checks what only the
workflow knows: the creator, who already approved, and whether it still waits.

With ``per_cluster`` (behind ``workflow.patched(PER_CLUSTER_APPROVAL)``) the campaign keeps
one gate per cluster instead, each waited on before that cluster's rollout starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.campaign_spec import ApprovalDecision, ApprovalPolicy
    from domain.runbook import ClusterApproval

APPROVALS = "approvals"
PER_CLUSTER_APPROVAL = "per-cluster-approval"


class ApprovalGate:
    """The campaign's gate, or (``cluster`` set) one cluster's."""

    def __init__(
        self, policy: ApprovalPolicy, creator: str | None, cluster: str | None = None
    ) -> None:
        self.policy = policy
        self.creator = creator
        self.cluster = cluster
        self.name = "the campaign" if cluster is None else f"cluster {cluster}"
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
            raise ValueError(f"{self.name} no longer waits for approval")
        if decision.approver == self.creator:
            raise ValueError("the campaign's creator cannot approve or reject it")
        if decision.approver in self.approved_by:
            this = "this campaign" if self.cluster is None else self.name
            raise ValueError(f"{decision.approver} has already approved {this}")

    def approve(self, decision: ApprovalDecision) -> str:
        self.approved_by.append(decision.approver)
        if not self.approved:
            return self.waiting_reason()
        return f"approved: {self.name} starts"

    def reject(self, decision: ApprovalDecision) -> str:
        self.rejection = f"rejected by {decision.approver}: {decision.reason or 'no reason'}"
        if self.cluster is None:
            return "rejected: the campaign ends without touching a host"
        return f"rejected: {self.name} ends without touching a host; the other clusters go on"

    def snapshot(self) -> ClusterApproval:
        """Where a cluster's gate stands, for the campaign's status."""
        assert self.cluster is not None
        state: Literal["waiting", "approved", "rejected", "expired"] = (
            "approved" if self.approved else "waiting"
        )
        if self.rejection is not None:
            state = "rejected"
        elif self.expired:
            state = "expired"
        return ClusterApproval(
            cluster=self.cluster,
            state=state,
            required=self.policy.required_approvals,
            approved_by=list(self.approved_by),
            reason=self.refusal,
        )

    async def wait(self, stopped: Callable[[], bool]) -> str | None:
        """None once approved; else why the campaign must end (rejected or expired). Also
        returns when STOPPED becomes true (an operator's abort), with that reason left to
        the caller."""
        hours = self.policy.expires_after_hours
        summary = "approval expiry" if self.cluster is None else f"approval expiry of {self.name}"
        try:
            await workflow.wait_condition(
                lambda: self.decided or stopped(),
                timeout=timedelta(hours=hours),
                timeout_summary=summary,
            )
        except TimeoutError:
            self.expired = True
        return self.refusal

    @property
    def refusal(self) -> str | None:
        """Why the gate will not open: the rejection, or the expiry; None otherwise."""
        if self.expired:
            return (
                f"approval expired after {self.policy.expires_after_hours:g} h with "
                f"{len(self.approved_by)} of {self.policy.required_approvals} approvals"
            )
        return self.rejection
