"""The predicted end: hand-computed queues, slots and windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.eta import ClusterQueue, Queued, Running, predict, window_start
from domain.windows import OneOffWindow, WeeklyWindow

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


def q(tag: str, minutes: int) -> Queued:
    return Queued(tag, minutes * MIN)


def test_a_queue_runs_in_order_max_concurrent_at_a_time() -> None:
    alpha = ClusterQueue("alpha", 2, queued=[q("A1", 30), q("A2", 10), q("A3", 20), q("A4", 5)])
    forecast = predict([alpha], T0, global_max=10)
    # A1 0-30, A2 0-10, A3 10-30 (A2's slot), A4 30-35 (first slot free at 30).
    assert forecast.ends == {
        "A1": T0 + 30 * MIN,
        "A2": T0 + 10 * MIN,
        "A3": T0 + 30 * MIN,
        "A4": T0 + 35 * MIN,
    }
    assert forecast.end == T0 + 35 * MIN
    assert forecast.never == ()


def test_running_hosts_hold_their_slot_and_an_overdue_one_ends_now() -> None:
    running = [
        Running("A1", T0 - 10 * MIN, 30 * MIN),  # 20 min left
        Running("A2", T0 - 60 * MIN, 30 * MIN),  # overdue
    ]
    alpha = ClusterQueue("alpha", 1, running=running[:1], queued=[q("A3", 10)])
    bravo = ClusterQueue("bravo", 1, running=running[1:], queued=[q("B1", 10)])
    forecast = predict([alpha, bravo], T0, global_max=5)
    assert forecast.ends["A1"] == T0 + 20 * MIN
    assert forecast.ends["A2"] == T0
    assert forecast.ends["A3"] == T0 + 30 * MIN
    assert forecast.ends["B1"] == T0 + 10 * MIN


def test_the_campaign_cap_is_shared_by_all_clusters() -> None:
    alpha = ClusterQueue("alpha", 1, queued=[q("A1", 10), q("A2", 10)])
    bravo = ClusterQueue("bravo", 1, queued=[q("B1", 10), q("B2", 10)])
    forecast = predict([alpha, bravo], T0, global_max=1)
    assert sorted(forecast.ends.values()) == [T0 + n * 10 * MIN for n in (1, 2, 3, 4)]
    assert forecast.end == T0 + 40 * MIN


def test_a_host_starts_only_where_a_window_holds_its_whole_estimate() -> None:
    # Open 10:00-11:00 UTC every day: a 40 min host fits at 10:00, the next one does not
    # fit in the 20 minutes left and waits for tomorrow's window.
    daily = WeeklyWindow(
        timezone="UTC", weekdays=list(range(7)), start="10:00", duration_minutes=60
    )
    alpha = ClusterQueue("alpha", 1, windows=[daily], queued=[q("A1", 40), q("A2", 40)])
    forecast = predict([alpha], T0, global_max=5)
    assert forecast.ends["A1"] == T0 + 40 * MIN
    assert forecast.ends["A2"] == T0 + timedelta(days=1) + 40 * MIN


def test_a_host_no_window_can_hold_stops_its_queue() -> None:
    once = OneOffWindow(
        timezone="UTC",
        starts_at=T0.replace(tzinfo=None),
        ends_at=(T0 + 30 * MIN).replace(tzinfo=None),
    )
    alpha = ClusterQueue("alpha", 1, windows=[once], queued=[q("A1", 20), q("A2", 60), q("A3", 5)])
    bravo = ClusterQueue("bravo", 1, queued=[q("B1", 90)])
    forecast = predict([alpha, bravo], T0, global_max=5)
    assert forecast.ends == {"A1": T0 + 20 * MIN, "B1": T0 + 90 * MIN}
    assert forecast.never == ("A2", "A3")
    assert forecast.end == T0 + 90 * MIN


def test_window_start_waits_for_the_next_opening() -> None:
    evening = WeeklyWindow(timezone="UTC", weekdays=[0], start="22:00", duration_minutes=120)
    assert window_start([evening], T0, 30 * MIN) == T0.replace(hour=22)
    assert window_start([evening], T0, 3 * 60 * MIN) is None
    assert window_start([], T0, 3 * 60 * MIN) == T0


def test_nothing_to_predict_and_bad_input() -> None:
    assert predict([], T0, global_max=1).end is None
    with pytest.raises(ValueError, match="max_concurrent"):
        predict([ClusterQueue("alpha", 0)], T0, global_max=1)
    with pytest.raises(ValueError):
        predict([], T0.replace(tzinfo=None), global_max=1)
