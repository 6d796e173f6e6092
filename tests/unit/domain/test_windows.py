"""Maintenance-window math: hand-computed DST cases, operator messages, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.campaign_spec import CampaignSpec
from domain.windows import (
    NEVER_CLOSES,
    OneOffWindow,
    WeeklyWindow,
    Window,
    fits,
    next_open,
    open_until,
    parse_windows,
    wait_reason,
)

AMS, NYC = "Europe/Amsterdam", "America/New_York"
MIN = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(zone: str, days: list[int], start: str, minutes: int) -> WeeklyWindow:
    return WeeklyWindow(timezone=zone, weekdays=days, start=start, duration_minutes=minutes)


SUN, SAT = 6, 5

# --- DST: 2026 Amsterdam 29 Mar 02:00 CET -> 03:00 CEST, 25 Oct 03:00 CEST -> 02:00 CET;
#          New York 8 Mar 02:00 EST -> 03:00 EDT, 1 Nov 02:00 EDT -> 01:00 EST.


def test_nonexistent_start_moves_to_the_jump() -> None:
    w = weekly(AMS, [SUN], "02:30", 60)
    # Wall 02:30-03:30 on 29 Mar: only 03:00-03:30 CEST exists (01:00Z-01:30Z).
    assert next_open([w], utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    assert open_until([w], utc(2026, 3, 29, 1)) == utc(2026, 3, 29, 1, 30)
    ny = weekly(NYC, [SUN], "02:30", 60)
    assert next_open([ny], utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 7)  # 03:00 EDT


def test_window_wholly_inside_the_gap_is_skipped_that_day() -> None:
    w = weekly(AMS, [SUN], "02:10", 40)  # 02:10-02:50 never happens on 29 Mar
    assert next_open([w], utc(2026, 3, 28, 12)) == utc(2026, 4, 5, 0, 10)  # next Sunday, CEST


def test_ambiguous_start_takes_the_first_occurrence() -> None:
    w = weekly(AMS, [SUN], "02:30", 30)
    # Opens 02:30 CEST (00:30Z); the wall clock reaches 03:00 only after the repeated hour.
    assert next_open([w], utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 0, 30)
    assert open_until([w], utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 2)
    ny = weekly(NYC, [SUN], "01:30", 30)
    assert next_open([ny], utc(2026, 10, 31, 12)) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert open_until([ny], utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 1, 7)  # 02:00 EST


def test_ambiguous_end_takes_the_first_occurrence() -> None:
    w = weekly(NYC, [SAT], "22:00", 210)  # to 01:30, which happens twice on 1 Nov
    assert open_until([w], utc(2026, 11, 1, 2)) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert next_open([w], utc(2026, 11, 1, 6, 10)) == utc(2026, 11, 8, 3)  # no reopening


@pytest.mark.parametrize(
    ("zone", "opens", "closes", "hours"),
    [
        # Sat 22:00 for 6 wall-clock hours, always to 04:00 local:
        (AMS, utc(2026, 10, 24, 20), utc(2026, 10, 25, 3), 7),  # 22:00 CEST -> 04:00 CET
        (AMS, utc(2026, 3, 28, 21), utc(2026, 3, 29, 2), 5),  # 22:00 CET -> 04:00 CEST
        (NYC, utc(2026, 3, 8, 3), utc(2026, 3, 8, 8), 5),  # 22:00 EST -> 04:00 EDT
        (NYC, utc(2026, 11, 1, 2), utc(2026, 11, 1, 9), 7),  # 22:00 EDT -> 04:00 EST
        (AMS, utc(2026, 11, 28, 21), utc(2026, 11, 29, 3), 6),  # no DST change
    ],
)
def test_window_spanning_midnight_and_dst_has_the_right_real_duration(
    zone: str, opens: datetime, closes: datetime, hours: int
) -> None:
    w = weekly(zone, [SAT], "22:00", 360)
    assert next_open([w], opens - timedelta(hours=5)) == opens
    assert open_until([w], opens) == closes
    assert closes - opens == timedelta(hours=hours)
    assert fits([w], opens, timedelta(hours=hours))
    assert not fits([w], opens + MIN, timedelta(hours=hours))


def test_one_off_local_times_across_fall_back() -> None:
    # 01:00 CEST (23:00Z) to 04:00 CET (03:00Z): four real hours for three wall-clock hours.
    w = OneOffWindow(timezone=AMS, starts_at="2026-10-25T01:00", ends_at="2026-10-25T04:00")
    assert (w.start_utc, w.end_utc) == (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))
    assert fits([w], utc(2026, 10, 24, 23), timedelta(hours=4))


def test_one_off_with_offsets_is_taken_as_is() -> None:
    w = OneOffWindow(timezone=NYC, starts_at="2026-12-05T22:00+01:00", ends_at="2026-12-06T04:00Z")
    assert next_open([w], utc(2026, 12, 1)) == utc(2026, 12, 5, 21)
    assert open_until([w], utc(2026, 12, 5, 21)) == utc(2026, 12, 6, 4)


def test_overlapping_and_touching_windows_merge_across_kinds_and_zones() -> None:
    mon_late = weekly("UTC", [0], "22:00", 120)  # Mon 22:00-24:00 UTC
    tue_early = OneOffWindow(
        timezone="UTC", starts_at="2026-12-01T00:00", ends_at="2026-12-01T03:00"
    )
    tue_ams = weekly(AMS, [1], "03:30", 60)  # Tue 02:30-03:30 UTC, overlaps the one-off
    windows = [mon_late, tue_early, tue_ams]
    assert open_until(windows, utc(2026, 11, 30, 23)) == utc(2026, 12, 1, 3, 30)
    assert open_until(windows, utc(2026, 12, 1, 3, 30)) is None  # half-open: closed at the end
    assert next_open(windows, utc(2026, 12, 1, 3, 30)) == utc(2026, 12, 7, 22)


def test_no_windows_means_always_open() -> None:
    now = utc(2026, 11, 27, 12)
    assert next_open([], now) == now
    assert open_until([], now) == NEVER_CLOSES
    assert fits([], now, timedelta(days=3))
    assert wait_reason([], now, timedelta(hours=1)).ready


def test_round_the_clock_weekly_schedule_never_closes() -> None:
    always = weekly(NYC, list(range(7)), "00:00", 24 * 60)
    assert open_until([always], utc(2026, 3, 8, 6)) == NEVER_CLOSES


def test_only_past_one_offs_never_open_again() -> None:
    past = OneOffWindow(timezone="UTC", starts_at="2026-01-01T00:00", ends_at="2026-01-02T00:00")
    now = utc(2026, 11, 27, 12)
    assert next_open([past], now) is None
    assert wait_reason([past], now, MIN) == (
        False,
        None,
        "no maintenance window opens after 2026-11-27 12:00 UTC",
    )


# --- What the operator reads


def test_wait_reason_outside_window() -> None:
    sat_night = weekly(AMS, [SAT], "02:00", 240)
    decision = wait_reason([sat_night], utc(2026, 11, 27, 12), timedelta(minutes=55))
    assert decision == (
        False,
        utc(2026, 11, 28, 1),
        "outside window; next opens 2026-11-28 02:00 Europe/Amsterdam",
    )


def test_wait_reason_window_closing_too_soon() -> None:
    sat_night = weekly(AMS, [SAT], "02:00", 240)  # closes 05:00Z
    decision = wait_reason([sat_night], utc(2026, 11, 28, 4, 20), timedelta(minutes=55))
    assert decision == (
        False,
        utc(2026, 12, 5, 1),
        "window closes in 40 min, host needs 55 min; next opens 2026-12-05 02:00 Europe/Amsterdam",
    )


def test_wait_reason_skips_windows_too_short_for_the_host() -> None:
    short = OneOffWindow(timezone=AMS, starts_at="2026-11-28T02:00", ends_at="2026-11-28T02:30")
    long = weekly(NYC, [SUN], "20:00", 180)  # Sun 20:00 EST = Mon 01:00Z
    decision = wait_reason([short, long], utc(2026, 11, 27, 12), timedelta(hours=1))
    assert decision.wake_at == utc(2026, 11, 30, 1)
    assert decision.reason == (
        "outside window; next window long enough opens 2026-11-29 20:00 America/New_York"
    )


def test_wait_reason_ready_says_how_long_is_left() -> None:
    sat_night = weekly(AMS, [SAT], "02:00", 240)
    decision = wait_reason([sat_night], utc(2026, 11, 28, 1, 30), timedelta(minutes=55))
    assert decision == (
        True,
        None,
        "inside window, open until 2026-11-28 06:00 Europe/Amsterdam (3 h 30 min left); "
        "host needs 55 min",
    )


def test_wait_reason_when_no_window_is_ever_long_enough() -> None:
    w = weekly("UTC", [0], "00:00", 60)
    decision = wait_reason([w], utc(2026, 11, 27), timedelta(hours=2))
    assert decision.wake_at is None and not decision.ready
    assert decision.reason == "outside window; no window in the next 400 days is long enough"


# --- Bad input names the field


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"timezone": "Europe/Nowhere"}, "timezone", "unknown IANA timezone"),
        ({"duration_minutes": 0}, "duration_minutes", "greater than or equal to 1"),
        ({"duration_minutes": -5}, "duration_minutes", "greater than or equal to 1"),
        ({"weekdays": []}, "weekdays", "at least 1"),
        ({"weekdays": ["funday"]}, "weekdays", "not a weekday"),
        ({"weekdays": [1, 1]}, "weekdays", "must not repeat"),
        ({"start": "02:00+01:00"}, "start", "local wall time"),
    ],
)
def test_weekly_validation_names_the_field(data: dict[str, object], field: str, words: str) -> None:
    good = {"timezone": AMS, "weekdays": ["sat"], "start": "02:00", "duration_minutes": 60}
    with pytest.raises(ValidationError) as caught:
        WeeklyWindow.model_validate(good | data)
    (error,) = caught.value.errors()
    assert error["loc"][0] == field and words in error["msg"]


def test_one_off_end_before_start_names_ends_at() -> None:
    with pytest.raises(ValidationError) as caught:
        OneOffWindow(timezone=AMS, starts_at="2026-12-05T22:00", ends_at="2026-12-05T21:00")
    (error,) = caught.value.errors()
    assert error["loc"] == ("ends_at",) and "after starts_at" in error["msg"]


def test_day_names_and_window_kinds_parse() -> None:
    adapter = TypeAdapter(list[Window])
    parsed = adapter.validate_python(
        [
            {
                "kind": "weekly",
                "timezone": AMS,
                "weekdays": ["Sunday", "sat"],
                "start": "22:00",
                "duration_minutes": 360,
            },
            {
                "kind": "once",
                "timezone": "UTC",
                "starts_at": "2026-12-05T22:00",
                "ends_at": "2026-12-06T04:00",
            },
        ]
    )
    assert isinstance(parsed[0], WeeklyWindow) and parsed[0].weekdays == [SAT, SUN]
    assert isinstance(parsed[1], OneOffWindow)


def test_campaign_spec_windows_convert_unchanged() -> None:
    spec = CampaignSpec.model_validate(
        {
            "targets": {"clusters": ["prod-a"]},
            "firmware": [{"component_id": "159", "version": "2.19.1", "package_id": 1}],
            "windows": [
                {
                    "kind": "weekly",
                    "timezone": AMS,
                    "weekdays": [5],
                    "start": "02:00",
                    "duration_minutes": 240,
                },
                {
                    "kind": "once",
                    "timezone": "UTC",
                    "starts_at": "2026-12-05T22:00:00+01:00",
                    "ends_at": "2026-12-06T04:00:00+01:00",
                },
            ],
        }
    )
    weekly_window, once = parse_windows(spec.windows)
    assert weekly_window == weekly(AMS, [SAT], "02:00", 240)
    assert (once.start_utc, once.end_utc) == (utc(2026, 12, 5, 21), utc(2026, 12, 6, 3))


def test_naive_now_is_rejected_with_a_clear_error() -> None:
    w = weekly(AMS, [SAT], "02:00", 60)
    for call in (next_open, open_until):
        with pytest.raises(ValueError, match="now must be timezone-aware"):
            call([w], datetime(2026, 11, 27, 12))
    with pytest.raises(ValueError, match="duration must be positive"):
        fits([w], utc(2026, 11, 27), timedelta(0))


# --- Properties

ZONES = [AMS, NYC, "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo"]
zones = st.sampled_from(ZONES)
instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
# Start times favour the DST hours (01:00-03:59) where the rules matter.
starts = st.one_of(
    st.times(min_value=time(1), max_value=time(3, 59)).map(
        lambda t: t.replace(second=0, microsecond=0)
    ),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
weekly_windows = st.builds(
    WeeklyWindow,
    timezone=zones,
    weekdays=st.sets(st.integers(0, 6), min_size=1).map(sorted),
    start=starts,
    duration_minutes=st.integers(1, 7 * 24 * 60),
)


@st.composite
def one_off_windows(draw: st.DrawFn) -> OneOffWindow:
    start = draw(st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 31)))
    length = draw(st.integers(90, 5 * 24 * 3600))  # a wall-clock span longer than any DST shift
    return OneOffWindow(
        timezone=draw(zones), starts_at=start, ends_at=start + timedelta(seconds=length)
    )


window_lists = st.lists(st.one_of(weekly_windows, one_off_windows()), min_size=1, max_size=4)
durations = st.integers(1, 2 * 24 * 60).map(lambda m: timedelta(minutes=m))


def wall(at: datetime, zone: str) -> datetime:
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def edge(local: datetime, zone: str) -> datetime:
    """Oracle for a window edge: the first instant the local clock shows ``local`` or later,
    found from the two fold candidates and, in a gap, by walking minute by minute."""
    tz = ZoneInfo(zone)
    candidates = [local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    existing = [c for c in candidates if wall(c, zone) == local]
    if existing:
        return min(existing)
    probe = min(candidates)
    while wall(probe, zone) < local:
        probe += MIN
    return probe


def in_wall_interval(at: datetime, zone: str, start: datetime, end: datetime) -> bool:
    return edge(start, zone) <= at < edge(end, zone)


def brute_force_open(windows: list[WeeklyWindow | OneOffWindow], at: datetime) -> bool:
    for w in windows:
        if isinstance(w, OneOffWindow):
            if in_wall_interval(at, w.timezone, w.starts_at, w.ends_at):
                return True
            continue
        local_day = wall(at, w.timezone).date()
        for back in range(9):
            day = local_day - timedelta(days=back)
            start = datetime.combine(day, w.start)
            end = start + timedelta(minutes=w.duration_minutes)
            if day.weekday() in w.weekdays and in_wall_interval(at, w.timezone, start, end):
                return True
    return False


@settings(max_examples=200, deadline=None)
@given(windows=window_lists, now=instants)
def test_next_open_and_open_until_agree_with_the_oracle(
    windows: list[WeeklyWindow | OneOffWindow], now: datetime
) -> None:
    opened, until = next_open(windows, now), open_until(windows, now)
    is_open = brute_force_open(windows, now)
    assert (opened == now) == is_open == (until is not None)
    if opened is not None:
        assert opened >= now
        assert brute_force_open(windows, opened)
        if opened > now:  # nothing opens in between: probe just before
            assert not brute_force_open(windows, opened - timedelta(microseconds=1))
    if until is not None and until != NEVER_CLOSES:
        assert until > now
        assert brute_force_open(windows, until - timedelta(microseconds=1))
        assert not brute_force_open(windows, until)  # merged: really closed at the end


@settings(max_examples=200, deadline=None)
@given(windows=window_lists, now=instants, duration=durations, fraction=st.floats(0, 1))
def test_fits_and_wait_reason_are_consistent(
    windows: list[WeeklyWindow | OneOffWindow],
    now: datetime,
    duration: timedelta,
    fraction: float,
) -> None:
    decision = wait_reason(windows, now, duration)
    assert decision.ready == fits(windows, now, duration)
    if decision.ready:
        until = open_until(windows, now)
        assert until is not None and now + duration <= until
        assert decision.wake_at is None
    elif decision.wake_at is not None:
        assert decision.wake_at > now
        assert fits(windows, decision.wake_at, duration)
        # The earliest such instant: no start in between would have fitted.
        between = now + (decision.wake_at - now) * fraction
        if between < decision.wake_at:
            assert not fits(windows, between, duration)


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from([AMS, NYC]),
    transition=st.sampled_from(
        [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1)]
    ),
    day_offset=st.integers(-1, 0),
    start=starts,
    minutes=st.integers(1, 24 * 60 - 1),
)
def test_dst_days_open_exactly_the_existing_part_of_the_wall_interval(
    zone: str, transition: date, day_offset: int, start: time, minutes: int
) -> None:
    day = transition + timedelta(days=day_offset)
    w = weekly(zone, [day.weekday()], start.isoformat(), minutes)
    occurrence = w.occurrence(day)
    wall_start = datetime.combine(day, start)
    wall_end = wall_start + timedelta(minutes=minutes)
    # Walk real minutes, tracking the latest wall time shown so far: the window is open
    # from when the clock first reaches its start until it first reaches its end.
    t = wall_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) - timedelta(hours=2)
    latest, inside = wall(t, zone), []
    while latest < wall_end:
        t += MIN
        latest = max(latest, wall(t, zone))
        if wall_start <= latest < wall_end:
            inside.append(t)
    if occurrence is None:
        assert inside == []
        return
    opens, closes = occurrence
    assert inside[0] == opens and inside[-1] + MIN == closes
    assert closes - opens == len(inside) * MIN  # contiguous, and the right real length
    assert open_until([w], opens) == closes
