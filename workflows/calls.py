"""How the rollout workflows call activities: one retry policy, explicit timeouts at the
call site, and the activity's own words when one fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.temporal_names import TaskQueue

# Transient trouble (BMC busy, vCenter hiccup) is retried; a verdict is not. Types are
# matched by class name (Temporal does not follow inheritance).
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
    non_retryable_error_types=[
        "MissingCredentialsError",
        "AuthenticationError",
        "UnsupportedError",
        "NotFoundError",
        "VerificationError",
        "MaintenanceTimeoutError",
        "MaintenanceBlockedError",
        "ReconnectTimeoutError",
        "HostNotBackError",
        "JobFailedError",
        "RedfishTLSError",
    ],
)


async def run_activity(
    queue: TaskQueue,
    name: str,
    arg: Any,
    result_type: type[Any] | None,
    start_to_close: timedelta,
    heartbeat: timedelta,
) -> Any:
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        task_queue=queue,
        start_to_close_timeout=start_to_close,
        heartbeat_timeout=heartbeat,
        retry_policy=RETRY,
    )


def innermost(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def reason_of(error: BaseException) -> str:
    """The innermost message: what the activity said, not Temporal's wrapping."""
    error = innermost(error)
    if isinstance(error, ApplicationError) and error.message:
        return error.message
    return str(error) or type(error).__name__
