"""Polls timed by how long the same wait's phases lasted before: sparse early, dense
near the expected end of the last phase, every interval otherwise."""

from __future__ import annotations

import pytest

from integrations.redfish.pacing import (
    DENSE_SHARE,
    MIN_SAMPLES,
    SPARSE_POLLS,
    PacedWait,
    PhaseDurations,
)

POLL = 1.0


def reboot(durations: PhaseDurations, post_s: float, wrap_up_s: float, every: float) -> None:
    """One reboot read every EVERY seconds: POST, then the LC's wrap-up, then settled."""
    wait = PacedWait("reboot", POLL, durations)
    wait.observe("reset", 0.0)
    t = 0.0
    while t < post_s + wrap_up_s:
        wait.observe("post" if t < post_s else "lc-busy", t)
        t += every
    wait.observe("settled", t)
    wait.done()


def test_without_history_every_interval() -> None:
    wait = PacedWait("new", POLL, PhaseDurations())
    wait.observe("reset", 0.0)
    wait.observe("post", 1.0)
    assert wait.sleep_s(1.0) == POLL


def test_learned_phases_are_read_sparsely_early_and_densely_near_the_end() -> None:
    durations = PhaseDurations()
    for _ in range(MIN_SAMPLES):
        reboot(durations, post_s=20.0, wrap_up_s=3.0, every=0.5)
    post = durations.window("reboot", "post")
    wrap_up = durations.window("reboot", "lc-busy")
    assert post is not None and wrap_up is not None
    assert post[0] <= 20.0 <= post[1] and not post[2], "POST is not what the wait ends with"
    assert wrap_up[0] <= 3.0 <= wrap_up[1] and wrap_up[2], "the LC's wrap-up ends the wait"

    wait = PacedWait("reboot", POLL, durations)
    wait.observe("reset", 0.0)
    wait.observe("post", 0.5)
    assert wait.sleep_s(0.5) == SPARSE_POLLS * POLL, "early in POST: sparse, capped"
    assert wait.sleep_s(19.8) == POLL, "POST's window, not the last phase: every interval"
    wait.observe("post", 19.8)
    wait.observe("lc-busy", 20.5)
    earliest_end = 19.8 + wrap_up[0]  # it began after the last POST read, at the soonest
    next_read = 20.5 + wait.sleep_s(20.5)
    assert next_read == pytest.approx(earliest_end), "read at the wrap-up's earliest end"
    assert wait.sleep_s(23.0) == DENSE_SHARE * POLL, "dense near its end"
    assert wait.sleep_s(60.0) == POLL, "past the latest end seen: every interval again"


def test_a_phase_whose_start_is_not_bracketed_is_not_timed() -> None:
    durations = PhaseDurations()
    for _ in range(MIN_SAMPLES):
        reboot(durations, post_s=20.0, wrap_up_s=3.0, every=0.5)
    wait = PacedWait("reboot", POLL, durations)
    wait.observe("post", 5.0)  # joined a reboot under way: when POST began is unknown
    assert wait.sleep_s(5.0) == POLL


def test_an_abandoned_wait_teaches_no_end() -> None:
    durations = PhaseDurations()
    for _ in range(MIN_SAMPLES):
        wait = PacedWait("job", POLL, durations)
        wait.observe("submitted", 0.0)
        wait.observe("downloading", 0.5)
        wait.observe("failed", 3.0)
        wait.abandon()
    window = durations.window("job", "downloading")
    assert window is not None and not window[2]
