"""NotificationResendWorkflow: deliver an event again after an operator put its failed
delivery back to pending (``POST /notifications/deliveries/{id}/retry``), once the receiver
is fixed. The same activity as the first time: only pending deliveries are sent."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notifications import RESEND_WORKFLOW, NotificationEvent

from workflows.notify import publish


@workflow.defn(name=RESEND_WORKFLOW)
class NotificationResendWorkflow:
    @workflow.run
    async def run(self, event: NotificationEvent) -> None:
        await publish(event)
