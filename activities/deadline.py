"""How long an activity attempt may wait before Temporal times it out.

A step that waits for the host (a reboot, a settled health reading) should end with its
own verdict and the last thing it saw, not be cut off by start_to_close with nothing to
say; so it waits for the step's time less a reserve to answer in.
"""

from __future__ import annotations

from temporalio import activity

_RESERVE_FRACTION = 0.1
_RESERVE_MAX_S = 30.0


def wait_budget_s(fallback_s: float) -> float:
    """Seconds to wait from now (the attempt's start): start_to_close less a reserve, or
    FALLBACK_S when the activity has no start_to_close timeout."""
    timeout = activity.info().start_to_close_timeout
    if not timeout:
        return fallback_s
    total = timeout.total_seconds()
    return total - min(_RESERVE_MAX_S, total * _RESERVE_FRACTION)
