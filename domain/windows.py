"""Maintenance windows: when a host may be taken down, as pure interval math.

Pure (stdlib + pydantic + zoneinfo, no wall clock: every function takes ``now``), so the
campaign workflow can call it on ``workflow.now()`` inside the Temporal sandbox and the API
can call it for a dry run, with the same answer.

Rules (see docs/domain.md):
- Windows are local wall-clock intervals, because change approvals are: a weekly window is
  ``[start, start + duration_minutes)`` on the local clock of each listed weekday, so
  "Sat 22:00 for 360 min" ends at 04:00 local every week, and really lasts 5 h on the
  spring-forward night and 7 h on the fall-back night. It never runs past the approved
  local end.
- A local edge that does not exist (inside a spring-forward gap) moves forward to the moment
  the clocks jump: 02:30 on the day Amsterdam jumps 02:00 -> 03:00 becomes 03:00 CEST, so the
  window keeps exactly the part of its wall-clock interval that exists; one lying wholly in
  the gap is skipped that day. A local edge that exists twice (fall-back) takes its first
  occurrence, so a window ending at 02:30 does not reopen when the clock shows 02:30 again.
- Windows are half-open ``[start, end)``; overlapping or touching windows (of any kind and
  timezone) merge into one open span.
- An empty list of windows means "no restriction": always open.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

# Temporal's workflow sandbox wraps ``zoneinfo.ZoneInfo`` in a proxy (to block from_file and
# friends) whose instances ``datetime`` refuses as tzinfo. ``zoneinfo`` itself re-exports the
# C class from ``_zoneinfo``, so take it from there: the same class, unwrapped, whether this
# module is re-imported in the sandbox or passed through (tests/unit/domain/test_sandbox.py).
try:
    from _zoneinfo import ZoneInfo
except ImportError:  # an interpreter without the C accelerator
    from zoneinfo import ZoneInfo

# How far ahead the math looks past ``now`` (and past the last one-off window). A schedule
# that stays open continuously for longer than this is reported as never closing, and a host
# that fits no window within it gets no wake-up time. A year plus a margin covers every
# DST pattern.
LOOKAHEAD = timedelta(days=400)

# One-off windows further than this past ``now`` are beyond reach until time brings them
# closer. Without it the look-ahead followed the last one-off window: one in year 3000 made
# a single wait decision walk 1,000 years of weekly occurrences (8 s, inside a workflow task).
HORIZON = timedelta(days=2 * 366)

# The wall-clock range a one-off window's edges (and ``now``) may lie in. The math looks up
# to HORIZON + LOOKAHEAD (plus a week of weekly occurrences and a day of UTC offset) ahead; a
# window in year 9999 overflowed ``datetime`` inside the cluster workflow and failed its task
# forever. Tested at both edges by tests/unit/domain/test_window_limits.py.
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(9990, 1, 1)

# ``open_until`` for a schedule that never closes (no windows, or open for longer than
# LOOKAHEAD). Comparable with any aware datetime; never add to it.
NEVER_CLOSES = datetime.max.replace(tzinfo=UTC)

_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_timezone(value: str) -> str:
    """An IANA name such as Europe/Amsterdam; raises ValueError (not naming it) otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA timezone (e.g. Europe/Amsterdam)") from None
    return value


def check_schedulable(value: datetime) -> datetime:
    """Refuse an instant the window math cannot handle; the offset is not needed for that."""
    if not EARLIEST <= value.replace(tzinfo=None) < LATEST:
        raise ValueError(
            f"must lie between {EARLIEST.year} and {LATEST.year - 1} (the range the "
            "scheduler can plan in)"
        )
    return value


_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")


def _not_a_number(value: Any) -> Any:
    """Date-times as ISO 8601 text (or ``datetime``), never a count of seconds: pydantic
    reads 1700000000 as an epoch time, so a mistyped date silently meant November 2023."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-12-05T22:00:00+01:00")
    return value


IsoText = BeforeValidator(_not_a_number)
"""Put on any ``datetime`` field that arrives as JSON or a query parameter."""

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:00)?$")


def _clock(value: Any) -> Any:
    """A local wall time to the minute: "HH:MM" or "HH:MM:00" (or a ``time``), nothing else.

    Pydantic's own ``time`` would also take "22:00+05:00" (an offset the window's timezone
    then silently overrode) and numbers of seconds."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("is a local wall time: give no UTC offset (timezone says where)")
        if value.second or value.microsecond:
            raise ValueError("is a wall time to the minute: seconds must be 0")
        return value
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError('must be a local wall time "HH:MM" (24 h), without a UTC offset')
    return time.fromisoformat(value)


LocalClock = Annotated[
    time,
    PlainValidator(_clock),
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "pattern": _CLOCK.pattern, "examples": ["22:00"]}),
]
"""A weekly window's start: a local wall time, in the JSON schema as the pattern it obeys
(``format: time`` means RFC 3339 time *with* an offset, which is exactly what is refused)."""


def _weekday(value: Any) -> Any:
    """Accept 0-6 (Monday = 0, like ``date.weekday()``) or an English day name."""
    if isinstance(value, str) and not value.strip().isdigit():
        key = value.strip().lower()[:3]
        if key not in _WEEKDAY_NAMES:
            raise ValueError("not a weekday (use 0-6 with Monday = 0, or mon..sun)")
        return _WEEKDAY_NAMES.index(key)
    return value


Timezone = Annotated[str, AfterValidator(check_timezone)]
Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=0, le=6)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WeeklyWindow(_Frozen):
    """Open every listed weekday from ``start`` (local wall time) for ``duration_minutes``."""

    kind: Literal["weekly"] = "weekly"
    timezone: Timezone = Field(examples=["Europe/Amsterdam"])
    weekdays: list[Weekday] = Field(
        min_length=1, description="0 = Monday ... 6 = Sunday, or mon..sun", examples=[[5, 6]]
    )
    start: LocalClock = Field(description="Local start time, HH:MM", examples=["22:00"])
    duration_minutes: int = Field(
        ge=1,
        le=7 * 24 * 60,
        description="Length on the local wall clock (see the DST rules)",
        examples=[360],
    )

    @field_validator("weekdays")
    @classmethod
    def _distinct_days(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("weekdays must not repeat")
        return sorted(value)

    def occurrence(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC interval this window is open on local ``day``; None if DST swallows it."""
        local_start = datetime.combine(day, self.start)
        start = _resolve(local_start, self.timezone)
        end = _resolve(local_start + timedelta(minutes=self.duration_minutes), self.timezone)
        return (start, end) if end > start else None


class OneOffWindow(_Frozen):
    """Open once. Naive datetimes are local wall time in ``timezone``; aware ones are used as is."""

    kind: Literal["once"] = "once"
    timezone: Timezone = Field(examples=["Europe/Amsterdam"])
    starts_at: Annotated[datetime, IsoText] = Field(examples=["2026-12-05T22:00:00"])
    ends_at: Annotated[datetime, IsoText] = Field(examples=["2026-12-06T04:00:00"])

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _schedulable(cls, value: datetime) -> datetime:
        return check_schedulable(value)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        zone, start = info.data.get("timezone"), info.data.get("starts_at")
        known = zone is not None and start is not None
        if known and _resolve(value, zone) <= _resolve(start, zone):
            raise ValueError("must be after starts_at")
        return value

    @property
    def start_utc(self) -> datetime:
        return _resolve(self.starts_at, self.timezone)

    @property
    def end_utc(self) -> datetime:
        return _resolve(self.ends_at, self.timezone)


Window = Annotated[WeeklyWindow | OneOffWindow, Field(discriminator="kind")]
_WINDOW_LIST: TypeAdapter[list[WeeklyWindow | OneOffWindow]] = TypeAdapter(list[Window])


def parse_windows(
    items: Iterable[Mapping[str, Any] | BaseModel],
) -> list[WeeklyWindow | OneOffWindow]:
    """Windows from plain data, or from another model with the same fields (the campaign
    spec's window models), so callers need not care which module defined them. A spec
    window's scope (where it applies, domain/site_windows.py) is not the math's concern."""
    return _WINDOW_LIST.validate_python([_when(item) for item in items])


def _when(item: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    data = item.model_dump() if isinstance(item, BaseModel) else dict(item)
    return {key: value for key, value in data.items() if key not in _SCOPE}


_SCOPE = frozenset({"datacenters", "clusters"})


def _resolve(value: datetime, zone: str) -> datetime:
    """UTC instant of ``value``; naive means local wall time in ``zone`` (DST rules above)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    tz = ZoneInfo(zone)
    first = value.replace(tzinfo=tz, fold=0).astimezone(UTC)  # first occurrence if repeated
    if first.astimezone(tz).replace(tzinfo=None) == value:
        return first
    # In a gap, fold=0 lands past the jump and fold=1 before it: find the jump by bisection
    # (the first instant whose wall time is not earlier than ``value``).
    low, high = value.replace(tzinfo=tz, fold=1).astimezone(UTC), first
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) < value:
            low = middle
        else:
            high = middle
    return high


def require_aware(value: datetime, name: str = "now") -> datetime:
    """Return ``value`` in UTC; a naive datetime is ambiguous across sites, so refuse it."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (with a UTC offset), got naive {value}")
    return value.astimezone(UTC)


def require_positive(value: timedelta, name: str = "duration") -> timedelta:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta, got {type(value).__name__}")
    if value <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {value}")
    return value


class Span(NamedTuple):
    """One merged open period, with the zones its edges are best shown in."""

    start: datetime
    end: datetime
    start_zone: str
    end_zone: str


def _occurrences(
    window: WeeklyWindow | OneOffWindow, now: datetime, limit: datetime
) -> Iterator[Span]:
    """A window's open periods in start order, from those that may still be open at ``now``."""
    if isinstance(window, OneOffWindow):
        yield Span(window.start_utc, window.end_utc, window.timezone, window.timezone)
        return
    # Start far enough back to catch an occurrence (at most a week long) still open now.
    day = now.astimezone(ZoneInfo(window.timezone)).date() - timedelta(days=8)
    while True:
        found = window.occurrence(day) if day.weekday() in window.weekdays else None
        if found is not None:
            if found[0] > limit:
                return
            yield Span(*found, window.timezone, window.timezone)
        day += timedelta(days=1)


def spans(windows: Sequence[WeeklyWindow | OneOffWindow], now: datetime) -> Iterator[Span]:
    """Merged open spans that end after ``now``, in order; the first may contain ``now``.

    Stops at the look-ahead horizon (LOOKAHEAD past ``now`` and the last one-off window, that
    window counted only up to HORIZON past ``now``); a span open without a break for months
    up to it ends at NEVER_CLOSES. Yields nothing for an empty list (callers treat that as
    unrestricted before asking).
    """
    now = require_aware(now)
    last_once = max((w.end_utc for w in windows if isinstance(w, OneOffWindow)), default=now)
    limit = min(max(now, last_once), now + HORIZON) + LOOKAHEAD
    stream = heapq.merge(*(_occurrences(w, now, limit) for w in windows), key=attrgetter("start"))
    current: Span | None = None
    for occ in stream:
        if occ.end <= now:
            continue
        if current is not None and occ.start <= current.end:
            if occ.end > current.end:
                current = current._replace(end=occ.end, end_zone=occ.end_zone)
            continue
        if current is not None:
            yield current
        current = occ
    if current is None:
        return
    if current.end < limit:
        yield current
    elif current.end - current.start >= LOOKAHEAD / 2:
        # Open continuously for months up to the horizon: a schedule that never closes.
        yield current._replace(end=NEVER_CLOSES)
    # else: an ordinary window cut by the horizon, whose end we cannot know; beyond reach.


def next_open(windows: Sequence[WeeklyWindow | OneOffWindow], now: datetime) -> datetime | None:
    """When a window is next open: ``now`` if one is open, None if none ever opens again."""
    now = require_aware(now)
    if not windows:
        return now
    first = next(spans(windows, now), None)
    return None if first is None else max(first.start, now)


def open_until(windows: Sequence[WeeklyWindow | OneOffWindow], now: datetime) -> datetime | None:
    """When the window open at ``now`` closes (merging overlaps); None if none is open.

    NEVER_CLOSES for no windows or a schedule open for longer than LOOKAHEAD.
    """
    now = require_aware(now)
    if not windows:
        return NEVER_CLOSES
    first = next(spans(windows, now), None)
    return first.end if first is not None and first.start <= now else None


def fits(
    windows: Sequence[WeeklyWindow | OneOffWindow], now: datetime, duration: timedelta
) -> bool:
    """Can a host needing ``duration`` start now and finish before the open window closes?"""
    now, duration = require_aware(now), require_positive(duration)
    until = open_until(windows, now)
    return until is not None and now + duration <= until


class WaitDecision(NamedTuple):
    """What the rollout should do now: start (ready), or sleep until ``wake_at`` and say why."""

    ready: bool
    wake_at: datetime | None
    reason: str


def wait_reason(
    windows: Sequence[WeeklyWindow | OneOffWindow], now: datetime, duration: timedelta
) -> WaitDecision:
    """Start now, or when to wake up: the start of the next window long enough for the host.

    ``wake_at`` is None when ready, or when no window within LOOKAHEAD is long enough (then
    nothing will change by waiting: the operator must add a window).
    """
    now, duration = require_aware(now), require_positive(duration)
    needs = f"host needs {format_duration(duration, up=True)}"
    if not windows:
        return WaitDecision(True, None, "no maintenance windows: may start at any time")
    upcoming = spans(windows, now)
    first = next(upcoming, None)
    if first is None:
        return WaitDecision(
            False, None, f"no maintenance window opens after {show_local(now, 'UTC')}"
        )
    if first.start <= now:
        left = first.end - now
        if left >= duration:
            closing = (
                "stays open"
                if first.end == NEVER_CLOSES
                else f"open until {show_local(first.end, first.end_zone)} "
                f"({format_duration(left)} left)"
            )
            return WaitDecision(True, None, f"inside window, {closing}; {needs}")
        head, later = f"window closes in {format_duration(left)}, {needs}", upcoming
    else:
        head, later = "outside window", _prepend(first, upcoming)
    for index, span in enumerate(later):
        if span.end - span.start >= duration:
            which = "next opens" if index == 0 else "next window long enough opens"
            return WaitDecision(
                False, span.start, f"{head}; {which} {show_local(span.start, span.start_zone)}"
            )
    return WaitDecision(
        False, None, f"{head}; no window in the next {LOOKAHEAD.days} days is long enough"
    )


def _prepend(first: Span, rest: Iterable[Span]) -> Iterator[Span]:
    yield first
    yield from rest


def show_local(instant: datetime, zone: str) -> str:
    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe(window: WeeklyWindow | OneOffWindow) -> str:
    """One line a person reads: 'weekly Sat, Sun 22:00 for 6 h (Europe/Amsterdam)'."""
    if isinstance(window, WeeklyWindow):
        days = ", ".join(_DAYS[day] for day in window.weekdays)
        length = format_duration(timedelta(minutes=window.duration_minutes))
        return f"weekly {days} {window.start:%H:%M} for {length} ({window.timezone})"
    start, end = window.start_utc, window.end_utc
    return f"once {show_local(start, window.timezone)} -> {show_local(end, window.timezone)}"


def format_duration(value: timedelta, *, up: bool = False) -> str:
    """'40 min', '2 h 05 min', '3 d 4 h': whole minutes, rounded down unless ``up``."""
    seconds = value.total_seconds() / 60
    minutes = math.ceil(seconds) if up else math.floor(seconds)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins:02d} min" if mins else f"{hours} h"
    return f"{mins} min" if mins or not value else "under 1 min"
