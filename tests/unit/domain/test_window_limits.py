"""Window math at the limits of ``datetime``: what the spec accepts, the engine can schedule.

A one-off window in year 9999 used to be accepted and then raise OverflowError inside the
cluster workflow on every task attempt, so the campaign sat RUNNING forever.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.campaign_spec import Window as SpecWindow
from domain.windows import (
    EARLIEST,
    LATEST,
    OneOffWindow,
    WeeklyWindow,
    next_open,
    open_until,
    parse_windows,
    wait_reason,
)

SPEC_WINDOW: TypeAdapter[object] = TypeAdapter(SpecWindow)
ZONES = st.sampled_from(
    ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Amsterdam", "America/St_Johns"]
)
OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
ANY_INSTANT = st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=OFFSETS)
NOW = st.datetimes(min_value=EARLIEST, max_value=LATEST - timedelta(days=1), timezones=st.just(UTC))
DURATION = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30))


def _ask_everything(windows: list[object], now: datetime, duration: timedelta) -> None:
    parsed = parse_windows(windows)  # type: ignore[arg-type]
    next_open(parsed, now)
    open_until(parsed, now)
    decision = wait_reason(parsed, now, duration)
    assert decision.ready or decision.wake_at is None or decision.wake_at > now


@settings(max_examples=300, deadline=None)
@given(start=ANY_INSTANT, length=DURATION, now=NOW, needs=DURATION)
def test_an_accepted_one_off_window_never_breaks_the_math(
    start: datetime, length: timedelta, now: datetime, needs: timedelta
) -> None:
    try:
        window = SPEC_WINDOW.validate_python(
            {"kind": "once", "timezone": "UTC", "starts_at": start, "ends_at": start + length}
        )
    except (ValidationError, OverflowError):  # OverflowError: building ends_at in the test
        return
    _ask_everything([window], now, needs)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime.min, max_value=datetime.max - timedelta(days=31)),
    length=DURATION,
    zone=ZONES,
    now=NOW,
    needs=DURATION,
)
def test_an_accepted_local_one_off_window_never_breaks_the_math(
    start: datetime, length: timedelta, zone: str, now: datetime, needs: timedelta
) -> None:
    try:
        window = OneOffWindow(timezone=zone, starts_at=start, ends_at=start + length)
    except ValidationError:
        return
    _ask_everything([window], now, needs)


@settings(max_examples=100, deadline=None)
@given(
    now=st.one_of(
        st.datetimes(EARLIEST, EARLIEST + timedelta(days=30), timezones=st.just(UTC)),
        st.datetimes(
            LATEST - timedelta(days=30), LATEST - timedelta(days=1), timezones=st.just(UTC)
        ),
    ),
    zone=ZONES,
    minutes=st.integers(1, 7 * 24 * 60),
    needs=DURATION,
)
def test_weekly_windows_at_the_edges_of_the_range(
    now: datetime, zone: str, minutes: int, needs: timedelta
) -> None:
    weekly = WeeklyWindow(
        timezone=zone, weekdays=[0, 3, 6], start="23:30", duration_minutes=minutes
    )
    _ask_everything([weekly], now, needs)


@pytest.mark.parametrize("model", [SPEC_WINDOW.validate_python, OneOffWindow.model_validate])
def test_year_9999_is_refused_naming_the_range(model: object) -> None:
    body = {
        "kind": "once",
        "timezone": "UTC",
        "starts_at": "9999-12-31T00:00:00+00:00",
        "ends_at": "9999-12-31T06:00:00+00:00",
    }
    with pytest.raises(ValidationError, match="between 1970 and 9989"):
        model(body)  # type: ignore[operator]


def test_a_far_future_window_is_not_walked_to() -> None:
    """The defect is time: a one-off window in year 3000 beside a too-short weekly window
    made one wait decision take 8 s inside a workflow task (Temporal's deadlock detector
    fires at 2 s). With the horizon it takes milliseconds; 1 s leaves ample margin."""
    windows = parse_windows(
        [
            {
                "kind": "weekly",
                "timezone": "UTC",
                "weekdays": list(range(7)),
                "start": "22:00",
                "duration_minutes": 60,
            },
            {
                "kind": "once",
                "timezone": "UTC",
                "starts_at": "3000-01-01T00:00:00",
                "ends_at": "3000-01-02T00:00:00",
            },
        ]
    )
    started = time.perf_counter()
    decision = wait_reason(windows, datetime(2026, 12, 4, tzinfo=UTC), timedelta(hours=2))
    assert time.perf_counter() - started < 1
    assert not decision.ready and decision.wake_at is None


@pytest.mark.parametrize("start", ["22:00", "22:00:00"])
def test_a_start_is_a_minute_of_the_local_clock(start: str) -> None:
    window = WeeklyWindow(timezone="UTC", weekdays=[0], start=start, duration_minutes=60)
    assert window.model_dump(mode="json")["start"] == "22:00:00"
    schema = WeeklyWindow.model_json_schema()["properties"]["start"]
    assert "format" not in schema and re.match(schema["pattern"], start)


@pytest.mark.parametrize("start", ["22:00+05:00", "22:00Z", "22:00:30", 79200, "7pm"])
def test_offsets_seconds_and_numbers_are_refused(start: object) -> None:
    with pytest.raises(ValidationError):
        WeeklyWindow(timezone="UTC", weekdays=[0], start=start, duration_minutes=60)
