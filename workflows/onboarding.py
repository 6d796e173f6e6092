"""OnboardingValidationWorkflow: validate enrollments batch by batch (ids only in history)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.names import Onboarding
    from domain.onboarding import (
        BATCH_SIZE,
        VALIDATION_WORKFLOW,
        ValidationBatch,
        ValidationRequest,
        ValidationSummary,
    )
    from domain.temporal_names import TaskQueue

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)


@workflow.defn(name=VALIDATION_WORKFLOW)
class OnboardingValidationWorkflow:
    @workflow.run
    async def run(self, request: ValidationRequest) -> ValidationSummary:
        ids: list[int] = await workflow.execute_activity(
            Onboarding.LIST_ENROLLMENTS,
            request,
            task_queue=TaskQueue.CAMPAIGNS,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            result_type=list[int],
        )
        validated = passed = 0
        for start in range(0, len(ids), BATCH_SIZE):
            summary = await workflow.execute_activity(
                Onboarding.VALIDATE_BATCH,
                ValidationBatch(enrollment_ids=ids[start : start + BATCH_SIZE]),
                task_queue=TaskQueue.REDFISH,
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RETRY,
                result_type=ValidationSummary,
            )
            validated, passed = validated + summary.validated, passed + summary.passed
        return ValidationSummary(validated=validated, passed=passed, failed=validated - passed)
