"""What a campaign's status means: its own result, never Temporal's execution status.

While its workflow runs, the state the workflow's ``status`` query reports (planning,
running, paused, aborting). Once closed, the state in its result (``CampaignResult.state``:
completed, finished_with_failures, halted, aborted) or, if it closed without a result, how
it closed (terminated, timed_out, failed, canceled) - aborted when an operator's abort came
first. A final status is recorded once and then never changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from temporalio.exceptions import CancelledError, TerminatedError, TimeoutError

from domain.runbook import CampaignState
from workflows.campaign import FINAL_STATES


class Ending(StrEnum):
    """How a campaign workflow closed without a result of its own."""

    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    CANCELED = "canceled"


Status = Literal["created"] | CampaignState | Ending
FINAL: frozenset[str] = frozenset({*FINAL_STATES, *Ending})
ENDINGS: dict[type[BaseException], Ending] = {
    TerminatedError: Ending.TERMINATED,
    TimeoutError: Ending.TIMED_OUT,
    CancelledError: Ending.CANCELED,
}
LABELS = {
    CampaignState.FINISHED_WITH_FAILURES: "completed with failures",
    Ending.TIMED_OUT: "timed out",
}


def ending_of(cause: BaseException | None) -> Ending:
    """How a workflow closed, from the cause of its ``WorkflowFailureError``."""
    return next((e for kind, e in ENDINGS.items() if isinstance(cause, kind)), Ending.FAILED)


def status_text(status: str, reason: str | None = None) -> str:
    """The status as people read it: "completed with failures", "terminated: <reason>"."""
    label = LABELS.get(status, status)
    return f"{label}: {reason}" if reason else label
