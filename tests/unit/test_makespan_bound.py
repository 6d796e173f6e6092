"""The makespan benchmark's lower bound: what no schedule can beat."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.makespan_bound import (
    DEVICE_STEPS,
    capacity_bound,
    device_seconds,
    drawn_timings,
    lower_bound,
)
from simulators.idrac.host import Timings


def best_schedule(device_s: list[float], slots: int) -> float:
    """The optimal makespan by brute force: every assignment of hosts to slots."""
    best = float("inf")
    for assignment in itertools.product(range(slots), repeat=len(device_s)):
        loads = [0.0] * slots
        for host, slot in zip(device_s, assignment, strict=True):
            loads[slot] += host
        best = min(best, max(loads))
    return best


@given(
    st.lists(st.floats(min_value=1, max_value=100), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=3),
)
def test_the_bound_never_exceeds_the_best_possible_schedule(times: list[float], slots: int) -> None:
    assert capacity_bound(times, slots) <= best_schedule(times, slots) + 1e-9


def test_a_slow_cluster_or_the_global_cap_whichever_binds() -> None:
    # One host at a time through a 3-host cluster: 3 x 10 s, whatever the global cap.
    assert lower_bound([([10, 10, 10], 1), ([10, 10], 2)], global_cap=20) == 30
    # 5 hosts of 10 s through 2 campaign slots: 25 s, although each cluster could go faster.
    assert lower_bound([([10, 10, 10], 3), ([10, 10], 2)], global_cap=2) == 25
    # The longest host bounds everything.
    assert lower_bound([([50, 1, 1], 3)], global_cap=3) == 50


def test_drawn_timings_stay_within_the_spread_and_repeat_with_the_seed() -> None:
    defaults = Timings()
    first = [drawn_timings(random.Random(7), 0.25) for _ in range(2)]
    assert first[0] == first[1]
    many = [drawn_timings(random.Random(seed), 0.25) for seed in range(200)]
    for timings in many:
        assert set(timings) == set(DEVICE_STEPS)
        for step, seconds in timings.items():
            assert 0.75 * getattr(defaults, step) <= seconds <= 1.25 * getattr(defaults, step)
    assert len({device_seconds(t, 1.0) for t in many}) > 150  # hosts really differ


def test_device_seconds_of_the_simulator_defaults() -> None:
    # download 30 + shutdown 30 + off 10 + BIOS in POST 90 + POST 120 + LC 30 = 310 s
    assert device_seconds({}, 0.1) == 31.0
