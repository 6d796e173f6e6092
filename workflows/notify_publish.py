"""NotificationPublishWorkflow: one event published from outside a workflow, by the same
activity the workflows use: a failed delivery an operator put back to pending
(``POST /notifications/deliveries/{id}/retry``; only pending deliveries are sent), or drift
a compliance evaluation found. Its workflow id is the event's key: started twice, it
runs once."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.notifications import PUBLISH_WORKFLOW, NotificationEvent

from workflows.notify import publish


@workflow.defn(name=PUBLISH_WORKFLOW)
class NotificationPublishWorkflow:
    @workflow.run
    async def run(self, event: NotificationEvent) -> None:
        await publish(event)
