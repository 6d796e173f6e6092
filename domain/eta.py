"""When a campaign and each of its hosts should end: the timeline's "predicted end".

The formula mirrors what the cluster rollout does, with each host taking exactly its
estimated duration (``HostJob.estimated_duration_s``, domain/estimates.py):

- a running host ends at ``started + estimate``, or ``now`` if that has passed (overdue:
  it ends when it ends; we cannot know more);
- a cluster runs its queue in order, at most ``max_concurrent_per_cluster`` hosts at once,
  and the campaign at most ``global_max_concurrent`` hosts at once over all clusters; a
  host starts at the earliest time a cluster slot and a campaign slot are both free, not
  before the host ahead of it in its queue started, and only where a maintenance window
  has room for its whole estimate (``domain.windows.wait_reason``: it waits for the next
  window long enough);
- a host no window within the look-ahead can hold never starts, and neither do the hosts
  queued after it (the rollout stops there too): they have no predicted end;
- the campaign's predicted end is the latest end of its hosts.

Honest limits: vCenter may allow fewer hosts at once than the policy (HA admission control,
``min_hosts_online``), pauses and failures are not foreseen, and a host found compliant at
preflight takes far less than its estimate. The prediction errs late, as estimates do.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.windows import (
    LOOKAHEAD,
    NEVER_CLOSES,
    OneOffWindow,
    WeeklyWindow,
    open_until,
    require_aware,
    wait_reason,
)

WindowList = Sequence[WeeklyWindow | OneOffWindow]
MAX_WINDOW_HOPS = 1000  # wait_reason finds a long-enough window in one hop; a guard only


@dataclass(frozen=True)
class Queued:
    tag: str
    estimate: timedelta


@dataclass(frozen=True)
class Running:
    tag: str
    started: datetime
    estimate: timedelta


@dataclass(frozen=True)
class ClusterQueue:
    """One cluster as it stands: hosts running now, hosts still queued (in order)."""

    name: str
    max_concurrent: int
    windows: WindowList = ()
    running: Sequence[Running] = ()
    queued: Sequence[Queued] = ()


@dataclass(frozen=True)
class Forecast:
    ends: dict[str, datetime] = field(default_factory=dict)  # service tag -> predicted end
    never: tuple[str, ...] = ()  # queued hosts no window can hold (and those after them)
    end: datetime | None = None  # the latest predicted end; None: no host to predict


def window_start(windows: WindowList, earliest: datetime, duration: timedelta) -> datetime | None:
    """The first moment from ``earliest`` at which a host of ``duration`` may start."""
    moment = earliest
    for _ in range(MAX_WINDOW_HOPS):
        decision = wait_reason(windows, moment, duration)
        if decision.ready:
            return moment
        if decision.wake_at is None:
            return None
        moment = max(decision.wake_at, moment)
    return None


def running_end(host: Running, now: datetime) -> datetime:
    return max(host.started + host.estimate, now)


def predict(clusters: Sequence[ClusterQueue], now: datetime, global_max: int) -> Forecast:
    """List scheduling of every queue (rules in the module doc).

    Each round takes the queue head that can start first. A head's start is kept between
    rounds (``_Candidate``) and asked of the windows again only when its earliest moment
    has moved past what is known: a watched campaign's snapshot must not redo the window
    math for every head on every round (seconds of CPU per snapshot for thousands of hosts).
    """
    require_aware(now)
    if global_max < 1 or any(c.max_concurrent < 1 for c in clusters):
        raise ValueError("max_concurrent: a cluster and the campaign need at least one slot")
    ends: dict[str, datetime] = {}
    campaign_slots = [now] * global_max
    cluster_slots: dict[str, list[datetime]] = {}
    for cluster in clusters:
        slots = [now] * cluster.max_concurrent
        for host in cluster.running:
            end = ends[host.tag] = running_end(host, now)
            _take(slots, end)
            _take(campaign_slots, end)
        cluster_slots[cluster.name] = slots
    heads = {c.name: 0 for c in clusters}
    last_start = {c.name: now for c in clusters}
    known: dict[str, _Candidate | None] = {}
    memo = _Memo(clusters)
    never: list[str] = []
    while True:
        free = min(campaign_slots)
        best: tuple[datetime, ClusterQueue] | None = None
        for cluster in clusters:
            name = cluster.name
            index = heads[name]
            if index >= len(cluster.queued):
                continue
            host = cluster.queued[index]
            earliest = max(min(cluster_slots[name]), free, last_start[name])
            head = known.get(name)
            if head is not None and head.asked <= earliest <= head.start:
                start = head.start  # the usual case, inline: this loop runs clusters x hosts
            elif head is not None and head.start < earliest <= head.fits_until:
                start = earliest
            else:
                start, known[name] = memo.start(cluster, host.estimate, earliest, head)
            if start is None:  # the rollout stops at this host
                never += [h.tag for h in cluster.queued[index:]]
                heads[name] = len(cluster.queued)
                continue
            if best is None or start < best[0]:
                best = (start, cluster)
        if best is None:
            break
        start, cluster = best
        host = cluster.queued[heads[cluster.name]]
        heads[cluster.name] += 1
        known[cluster.name] = None  # a new head
        last_start[cluster.name] = start
        end = ends[host.tag] = start + host.estimate
        _take(cluster_slots[cluster.name], end)
        _take(campaign_slots, end)
    return Forecast(ends=ends, never=tuple(never), end=max(ends.values(), default=None))


@dataclass(frozen=True)
class _Candidate:
    """What ``window_start`` answered for one head, and for which other moments it holds.

    Asked at ``asked`` it said ``start``: from any moment in ``[asked, start]`` the walk
    reaches the same ``start`` (nothing in between could hold the host), and from any moment
    in ``[start, fits_until]`` the host starts at once (the window open at ``start`` still
    has room for it then). Outside those, ask again. tests/unit/domain/test_eta_equivalence.py
    checks this against asking every time.
    """

    asked: datetime
    start: datetime
    fits_until: datetime


class _Memo:
    """Every ``_Candidate`` of one prediction, by windows and duration: clusters sharing a
    schedule and hosts of the same estimate ask the same question, so it is answered once
    per window they pass through, not once per host."""

    def __init__(self, clusters: Sequence[ClusterQueue]) -> None:
        self.schedule = {c.name: _schedule_key(c.windows) for c in clusters}
        self.asked: dict[tuple[str, timedelta], list[datetime]] = {}
        self.found: dict[tuple[str, timedelta], list[_Candidate]] = {}

    def start(
        self,
        cluster: ClusterQueue,
        duration: timedelta,
        earliest: datetime,
        known: _Candidate | None,
    ) -> tuple[datetime | None, _Candidate | None]:
        """``window_start(cluster.windows, earliest, duration)``, asked only when no earlier
        answer tells (``known``: the head's own last one, checked first)."""
        for candidate in (known, *self._near((self.schedule[cluster.name], duration), earliest)):
            if candidate is not None and candidate.asked <= earliest:
                if earliest <= candidate.start:
                    return candidate.start, candidate
                if earliest <= candidate.fits_until:
                    return earliest, candidate
        start = window_start(cluster.windows, earliest, duration)
        if start is None:
            return None, None
        if cluster.windows and duration > LOOKAHEAD / 2:  # "never closing" may close later
            return start, None
        found = _Candidate(earliest, start, _fits_until(cluster.windows, start, duration))
        self._keep((self.schedule[cluster.name], duration), found)
        return start, found

    def _near(self, key: tuple[str, timedelta], moment: datetime) -> list[_Candidate]:
        """The two candidates asked last at or before ``moment``."""
        asked = self.asked.get(key)
        if not asked:
            return []
        at = bisect_right(asked, moment)
        return self.found[key][max(at - 2, 0) : at][::-1]

    def _keep(self, key: tuple[str, timedelta], found: _Candidate) -> None:
        asked = self.asked.setdefault(key, [])
        at = bisect_right(asked, found.asked)
        asked.insert(at, found.asked)
        self.found.setdefault(key, []).insert(at, found)


def _schedule_key(windows: WindowList) -> str:
    """Equal windows (each cluster parses its own copy) share their answers."""
    return "|".join(w.model_dump_json() for w in windows)


def _fits_until(windows: WindowList, start: datetime, duration: timedelta) -> datetime:
    """The last moment from ``start`` at which the host still starts at once."""
    if not windows:
        return NEVER_CLOSES
    until = open_until(windows, start)
    if until is None or until == NEVER_CLOSES:  # ends past the look-ahead: not known
        return start
    return until - duration


def _take(slots: list[datetime], busy_until: datetime) -> None:
    """The earliest free slot is busy until ``busy_until``."""
    slots[slots.index(min(slots))] = busy_until
