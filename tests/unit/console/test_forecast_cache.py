"""The timeline's predictions: made off the event loop, once per input (the clock moves
them once a minute), shared by every watcher of a campaign."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import pytest

import console.forecast_cache
from console.forecast import HostState, forecasts
from console.forecast_cache import ForecastCache
from tests.unit.console.test_forecast import HOSTS, LIVE, at, history

INPUTS: tuple[Any, ...] = ({}, at(0), None)  # spec, started, finished


async def _get(cache: ForecastCache, now: datetime, hosts: list[HostState] = HOSTS) -> Any:
    return await cache.get(1, history(), hosts, LIVE, *INPUTS, now)


async def test_the_same_inputs_in_the_same_minute_are_predicted_once() -> None:
    cache = ForecastCache()
    first = await _get(cache, at(601))
    again = await _get(cache, at(659))
    assert first == again == forecasts(history(), HOSTS, LIVE, *INPUTS, at(601))
    assert cache.predictions == 2  # the plan and what is left, each once


async def test_the_next_minute_predicts_what_is_left_again_and_never_the_plan() -> None:
    cache = ForecastCache()
    await _get(cache, at(601))
    later = await _get(cache, at(661))
    assert cache.predictions == 3
    assert later == forecasts(history(), HOSTS, LIVE, *INPUTS, at(661))


async def test_a_host_starting_predicts_what_is_left_at_once() -> None:
    cache = ForecastCache()
    await _get(cache, at(601))
    started = [*HOSTS[:2], HostState("H3", "alpha", "running")]
    now_running = await _get(cache, at(610), started)
    assert cache.predictions == 3
    assert now_running == forecasts(history(), started, LIVE, *INPUTS, at(610))


async def test_watchers_asking_at_once_share_one_prediction() -> None:
    cache = ForecastCache()
    answers = await asyncio.gather(*(_get(cache, at(601)) for _ in range(20)))
    assert cache.predictions == 2
    assert all(a == answers[0] for a in answers)


async def test_an_ended_campaign_predicts_only_its_plan() -> None:
    cache = ForecastCache()
    got = await cache.get(1, history(), HOSTS, [], {}, at(0), at(1700), at(5000))
    assert got.left is None and cache.predictions == 1


async def test_the_event_loop_runs_while_a_prediction_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The prediction waits for a coroutine of this loop: made on the loop, it would wait
    # for ever (here: 10 s, then fail); made in a worker thread, it is let go at once.
    go = threading.Event()
    real = console.forecast_cache.remaining

    def remaining(*args: Any) -> Any:
        assert go.wait(timeout=10), "the event loop was blocked by the prediction"
        return real(*args)

    async def let_go() -> None:
        go.set()

    monkeypatch.setattr(console.forecast_cache, "remaining", remaining)
    cache = ForecastCache()
    answer, _ = await asyncio.gather(_get(cache, at(601)), let_go())
    assert answer.left is not None


async def test_a_rollout_stopping_predicts_what_is_left_at_once() -> None:
    cache = ForecastCache()
    await _get(cache, at(601))
    stopping = [{**LIVE[0], "state": "stopping"}]  # starts no more hosts: H3 is not queued
    got = await cache.get(1, history(), HOSTS, stopping, *INPUTS, at(610))
    assert cache.predictions == 3
    assert "H3" not in got.left.ends
    assert got == forecasts(history(), HOSTS, stopping, *INPUTS, at(610))
