"""When to read again: polls guided by how long the same wait lasted on other hosts.

A reboot or a job passes through phases the iDRAC reports (going down, POST, the
Lifecycle Controller's wrap-up after POST, settled; queued, downloading, scheduled).
Polling every ``poll_interval_s`` throughout spends most requests where nothing can
change yet, and still notices the end up to a whole interval late. Instead, each phase's
duration is learned from the waits this process has watched (same key: the same reset
with the same staged jobs, the same job), and the next read is timed from it:

- before the earliest end seen for this phase (counted from the earliest the phase can
  have begun): sparse, one read at most every ``SPARSE_POLLS`` intervals;
- between the earliest and the latest end seen: every interval, and where that phase
  was the last one before the wait ended (the end the caller waits for), DENSE_SHARE
  of an interval, so the end is noticed soon after it happens;
- past the latest end seen, or with fewer than MIN_SAMPLES waits seen: every interval.

A phase is timed by what the reads bracket: it began between the last read of the
phase before and the first read of it, and ended between its last read and the first
read of the next. The shortest bracket (last - first read in it) is a lower bound of a
phase's length, the longest (first read after - last read before) an upper bound, so a
learned window never claims more than the reads showed. Nothing here decides anything:
a wrong guess costs a late or an extra read, never a wrong verdict, and the callers'
deadlines and proofs are unchanged.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass

MIN_SAMPLES = 3
SPARSE_POLLS = 8  # at most this many intervals between two reads early in a phase
DENSE_SHARE = 0.25  # near the expected end of the last phase: a read every quarter interval
_KEEP = 64  # durations kept per (key, phase): the recent ones
_KEYS = 256  # keys kept, least recently used dropped


@dataclass(frozen=True)
class Sample:
    shortest: float  # the phase lasted at least this long (last - first read in it)
    longest: float  # ... and at most this long (first read after - last read before)
    last: bool  # the wait ended when this phase did


class PhaseDurations:
    """How long each phase of a wait lasted, per key, in this process (not durable: a
    new worker starts by polling every interval and learns again)."""

    def __init__(self) -> None:
        self._samples: OrderedDict[str, dict[str, deque[Sample]]] = OrderedDict()

    def record(self, key: str, phase: str, sample: Sample) -> None:
        phases = self._samples.setdefault(key, {})
        self._samples.move_to_end(key)
        phases.setdefault(phase, deque(maxlen=_KEEP)).append(sample)
        while len(self._samples) > _KEYS:
            self._samples.popitem(last=False)

    def window(self, key: str, phase: str) -> tuple[float, float, bool] | None:
        """(earliest, latest) end after the phase began, and whether the wait usually
        ended with it; None while fewer than MIN_SAMPLES were seen."""
        samples = self._samples.get(key, {}).get(phase)
        if not samples or len(samples) < MIN_SAMPLES:
            return None
        last = sum(s.last for s in samples) * 2 > len(samples)
        return min(s.shortest for s in samples), max(s.longest for s in samples), last

    def clear(self) -> None:
        self._samples.clear()


DURATIONS = PhaseDurations()


class PacedWait:
    """One wait: ``observe`` every reading's phase, ``sleep_s`` to know when to read again,
    then ``done`` when the wait got what it waited for (or ``abandon``)."""

    def __init__(self, key: str, poll_s: float, durations: PhaseDurations | None = None) -> None:
        self.key = key
        self.poll_s = poll_s
        self.durations = durations if durations is not None else DURATIONS
        self.phase: str | None = None
        self._before_lo: float | None = None  # last read of the phase before this one
        self._first = 0.0  # first read in this phase
        self._last = 0.0  # last read in this phase
        # The phase before this one, learned but not yet recorded: whether it was the
        # last one before the end is known only once this one ends.
        self._pending: tuple[str, float, float] | None = None

    def observe(self, phase: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if phase == self.phase:
            self._last = now
            return
        self._record_pending(last=False)
        if self.phase is not None and self._before_lo is not None:
            # Began after the read before it, ended before this one.
            self._pending = (self.phase, self._last - self._first, now - self._before_lo)
        if self.phase is not None:
            self._before_lo = self._last
        self.phase, self._first, self._last = phase, now, now

    def done(self) -> None:
        """The wait got its answer: the phase before the current one led to the end."""
        self._record_pending(last=True)

    def abandon(self) -> None:
        """The wait ended otherwise (deadline, error): keep what was learned."""
        self._record_pending(last=False)

    def _record_pending(self, *, last: bool) -> None:
        if self._pending is not None:
            phase, shortest, longest = self._pending
            self.durations.record(self.key, phase, Sample(shortest, longest, last))
            self._pending = None

    def sleep_s(self, now: float | None = None) -> float:
        """Seconds until the next read."""
        now = time.monotonic() if now is None else now
        if self.phase is None or self._before_lo is None:
            return self.poll_s  # this phase's start is not bracketed: nothing to time from
        window = self.durations.window(self.key, self.phase)
        if window is None:
            return self.poll_s
        shortest, longest, last = window
        earliest = self._before_lo + shortest  # it began no earlier than that read
        latest = self._first + longest  # ... and no later than this one
        dense = self.poll_s * DENSE_SHARE if last else self.poll_s
        if now < earliest:
            return max(min(earliest - now, SPARSE_POLLS * self.poll_s), dense)
        if now <= latest:
            return dense
        return self.poll_s
