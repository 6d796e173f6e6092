"""Why a rollout waits, as a small fixed set of categories for metrics and dashboards.

The workflows say why they wait in sentences for people ("outside window; next opens
2026-12-06 22:00 Europe/Amsterdam", "cluster capacity: HA admission control ...") that
carry host names and times: unusable as a Prometheus label. This maps each sentence to
the category of its cause by the words the workflows start it with (or, for a requeued
host, the words after its tag). tests/unit/domain/test_wait_reasons.py reads every reason
the workflows can produce, so a new one without a category fails there.
"""

from __future__ import annotations

import re
from enum import StrEnum


class WaitCategory(StrEnum):
    APPROVAL = "approval"  # the campaign waits for its approvers
    PAUSED = "paused"  # an operator paused it
    WINDOW = "maintenance_window"  # outside a window, or too little of it left
    CAPACITY = "cluster_capacity"  # vCenter: HA admission control, hosts down, DRS
    POLICY_LIMIT = "policy_limit"  # the cluster's own concurrency limit is reached
    CAMPAIGN_SLOT = "campaign_slot"  # the campaign-wide host limit is reached
    PREFLIGHT = "preflight"  # a queued host's read-only checks run
    REQUEUED = "requeued"  # vCenter refused a host's maintenance: back in the queue
    DRAINING = "hosts_finishing"  # nothing left to start; running hosts still updating
    CLOSING = "closing"  # the campaign sends its last notifications
    OTHER = "other"  # a reason from a release this one does not know


_RULES: tuple[tuple[re.Pattern[str], WaitCategory], ...] = tuple(
    (re.compile(pattern), category)
    for pattern, category in (
        (r"^waiting for approval\b", WaitCategory.APPROVAL),
        (r"^paused by an operator", WaitCategory.PAUSED),
        (
            r"^(outside window|window closes in|no maintenance window)",
            WaitCategory.WINDOW,
        ),
        (r"^cluster capacity: ", WaitCategory.CAPACITY),
        (r"^\S+ hosts updating, the policy allows ", WaitCategory.POLICY_LIMIT),
        (r"^waiting for a campaign-wide host slot", WaitCategory.CAMPAIGN_SLOT),
        (r"^preflight of ", WaitCategory.PREFLIGHT),
        (r"^\S+ back in the queue: ", WaitCategory.REQUEUED),
        (r"^waiting for running hosts to finish", WaitCategory.DRAINING),
        (r"^closing: ", WaitCategory.CLOSING),
    )
)


def wait_category(reason: str) -> WaitCategory:
    """The category of a workflow's ``waiting_reason`` (OTHER for one not known here)."""
    return next((c for pattern, c in _RULES if pattern.match(reason)), WaitCategory.OTHER)
