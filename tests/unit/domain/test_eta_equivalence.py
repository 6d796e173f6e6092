"""domain/eta.py's ``predict`` reuses window answers between rounds and hosts; it must give
exactly what asking the windows every time gives (eta_reference.py), and do far less work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain.eta
from domain.eta import ClusterQueue, Queued, Running, predict
from domain.windows import OneOffWindow, WeeklyWindow
from tests.unit.domain import eta_reference

MIN = timedelta(minutes=1)
ZONES = ("UTC", "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe")
# Around DST changes (EU spring and autumn, US autumn) and an ordinary Monday.
BASES = (
    datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
    datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
)
ESTIMATES = (20, 40, 45, 60, 90, 180, 400, 800, 3000)  # minutes; repeats share answers


def weekly() -> st.SearchStrategy[WeeklyWindow]:
    return st.builds(
        WeeklyWindow,
        timezone=st.sampled_from(ZONES),
        weekdays=st.sets(st.integers(0, 6), min_size=1).map(sorted),
        start=st.sampled_from(["00:00", "01:30", "02:30", "09:00", "22:00", "23:45"]),
        duration_minutes=st.sampled_from([30, 60, 120, 360, 600, 1440, 2880, 7 * 1440]),
    )


@st.composite
def one_off(draw: st.DrawFn, now: datetime) -> OneOffWindow:
    start = now + draw(st.integers(-48, 24 * 40)) * 30 * MIN
    length = draw(st.integers(1, 96)) * 30 * MIN
    zone = draw(st.sampled_from(ZONES))
    local = start.replace(tzinfo=None)
    return OneOffWindow(timezone=zone, starts_at=local, ends_at=local + length)


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[list[ClusterQueue], datetime, int]:
    now = draw(st.sampled_from(BASES)) + draw(st.integers(0, 3 * 24 * 12)) * 5 * MIN
    window = st.one_of(weekly(), one_off(now))
    schedules = draw(st.lists(st.lists(window, max_size=2), min_size=1, max_size=3))
    clusters = []
    for c in range(draw(st.integers(1, 4))):
        running = [
            Running(
                f"R{c}{i}", now - draw(st.integers(0, 600)) * MIN, draw(st.integers(10, 600)) * MIN
            )
            for i in range(draw(st.integers(0, 2)))
        ]
        queued = [
            Queued(f"Q{c}{i}", draw(st.sampled_from(ESTIMATES)) * MIN)
            for i in range(draw(st.integers(0, 8)))
        ]
        clusters.append(
            ClusterQueue(
                f"c{c}",
                draw(st.integers(1, 3)),
                windows=draw(st.sampled_from(schedules)),
                running=running,
                queued=queued,
            )
        )
    return clusters, now, draw(st.integers(1, 5))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaigns())
def test_the_same_forecast_as_asking_the_windows_every_time(
    case: tuple[list[ClusterQueue], datetime, int],
) -> None:
    clusters, now, global_max = case
    assert predict(clusters, now, global_max) == eta_reference.predict(clusters, now, global_max)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = domain.eta.window_start

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(domain.eta, "window_start", counted)
    return calls


def _big(hosts: int, clusters: int) -> list[ClusterQueue]:
    """A campaign as the console's benchmark has it: a daily 6 h window, six estimates."""
    daily = [
        WeeklyWindow(
            timezone="Europe/Amsterdam",
            weekdays=list(range(7)),
            start="22:00",
            duration_minutes=360,
        )
    ]
    return [
        ClusterQueue(
            f"c{c}",
            2,
            windows=list(daily),
            queued=[
                Queued(f"H{c}-{h}", (40 + 10 * ((c + h) % 6)) * MIN)
                for h in range(c, hosts, clusters)
            ],
        )
        for c in range(clusters)
    ]


@pytest.mark.parametrize(("hosts", "clusters"), [(400, 20), (2000, 50)])
def test_the_window_math_runs_per_window_and_estimate_not_per_host_and_round(
    monkeypatch: pytest.MonkeyPatch, hosts: int, clusters: int
) -> None:
    # Asking every head every round took one window_start per cluster per host placed
    # (about hosts x clusters: 8,000 and 100,000 here; 1.8 s and 17.6 s per snapshot).
    calls = _counting(monkeypatch)
    forecast = predict(_big(hosts, clusters), BASES[3], global_max=10)
    assert len(forecast.ends) == hosts
    assert calls[0] <= hosts // 10
