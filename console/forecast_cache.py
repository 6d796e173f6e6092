"""The timeline's predictions, made off the event loop and shared by every watcher.

Each watcher of a campaign takes a snapshot every 0.5 s, and predicting a big campaign's
ends is CPU work (domain/eta.py): done inline it stalled every request of the API process,
/healthz included. So, per campaign and per process:

- the plan (its inputs, the rollouts' first runs, do not change) is made once;
- what is left is made again only when its inputs change: ``now`` is taken to the next
  whole minute, so the clock alone moves it at most once a minute; a host starting or
  ending (the queue changing) moves it at once, or the page would show a stale queue;
- the work runs in a worker thread; watchers asking meanwhile wait for that answer
  (a lock per campaign) instead of making their own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from api.campaign_history import CampaignHistory
from console.forecast import (
    Forecasts,
    HostState,
    left_key,
    plan_key,
    planned,
    policy_of,
    remaining,
)
from domain.eta import Forecast

KEEP = 256  # campaigns remembered (a cache: forgetting one costs one prediction)


@dataclass(frozen=True)
class _Entry:
    plan_key: Hashable
    plan: Forecast
    left_key: Hashable
    left: Forecast | None


class ForecastCache:
    """One per API process (console/campaign.py keeps it on the app)."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self.entries: OrderedDict[int, _Entry] = OrderedDict()
        self.locks: dict[int, anyio.Lock] = {}
        self.predictions = 0  # planned or remaining made: what tests count

    async def get(
        self,
        campaign_id: int,
        history: CampaignHistory,
        hosts: list[HostState],
        live_clusters: list[dict[str, Any]],
        spec: dict[str, Any],
        started: datetime | None,
        finished: datetime | None,
        now: datetime,
    ) -> Forecasts:
        """``console.forecast.forecasts`` for these inputs, made again only when they differ
        from the last ones of this campaign."""
        global_max = policy_of(spec).global_max_concurrent
        want_plan = plan_key(history, started, global_max)
        want_left = None
        if finished is None:
            want_left = left_key(history, hosts, live_clusters, now, global_max)
        lock = self.locks.setdefault(campaign_id, anyio.Lock())
        async with lock:
            entry = self.entries.get(campaign_id)
            plan = entry.plan if entry and entry.plan_key == want_plan else None
            left = entry.left if entry and entry.left_key == want_left else None
            if plan is None:
                plan = await anyio.to_thread.run_sync(planned, history, started, global_max)
                self.predictions += 1
            if left is None and finished is None:
                left = await anyio.to_thread.run_sync(
                    remaining, history, hosts, live_clusters, now, global_max
                )
                self.predictions += 1
            self._keep(campaign_id, _Entry(want_plan, plan, want_left, left))
        return Forecasts(plan, left)

    def _keep(self, campaign_id: int, entry: _Entry) -> None:
        self.entries[campaign_id] = entry
        self.entries.move_to_end(campaign_id)
        while len(self.entries) > self.keep:
            gone, _ = self.entries.popitem(last=False)
            self.locks.pop(gone, None)
