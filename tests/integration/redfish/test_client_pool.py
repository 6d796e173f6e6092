"""Kept Redfish clients against the simulator: one session for a runbook's steps, logged
out on error, on expiry and when the worker stops; an iDRAC reset does not break reuse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from integrations.redfish.client import RedfishClient
from integrations.redfish.pool import RedfishClientPool
from tests.integration.redfish.conftest import SimHostHandle

MakeClient = Callable[..., RedfishClient]


async def test_steps_in_a_row_share_one_session(host: SimHostHandle, make_client) -> None:
    pool = RedfishClientPool()
    requests_before = host.state()["requests"]
    for _ in range(3):
        async with pool.client(host.tag, lambda: make_client(host)) as client:
            assert (await client.identity()).service_tag == host.tag
    assert pool.created == 1
    assert host.state()["sessions"] == 1  # kept for the next step
    # Service root, login, System and Manager discovery once (4), then a System and a
    # Manager re-read per identity() (2 + 2); a fresh client per step would be 3 x 5.
    assert host.state()["requests"] - requests_before == 8
    await pool.aclose()
    assert host.state()["sessions"] == 0, "stopping the worker logs every kept session out"


async def test_a_client_that_saw_an_error_is_logged_out(host: SimHostHandle, make_client) -> None:
    pool = RedfishClientPool()
    with pytest.raises(RuntimeError):
        async with pool.client(host.tag, lambda: make_client(host)) as client:
            await client.identity()
            raise RuntimeError("the step failed half-way")
    assert host.state()["sessions"] == 0
    async with pool.client(host.tag, lambda: make_client(host)) as client:
        await client.identity()
    assert pool.created == 2
    await pool.aclose()


async def test_clients_idle_too_long_are_logged_out(host: SimHostHandle, make_client) -> None:
    pool = RedfishClientPool(max_idle_s=0.0)
    async with pool.client(host.tag, lambda: make_client(host)) as client:
        await client.identity()
    assert host.state()["sessions"] == 1
    async with pool.client("another iDRAC", lambda: make_client(host)) as client:
        await client.identity()  # any use sweeps the expired ones first
    assert host.state()["sessions"] == 1
    await pool.aclose()
    assert host.state()["sessions"] == 0


async def test_no_more_than_the_limit_is_kept_per_idrac(host: SimHostHandle, make_client) -> None:
    pool = RedfishClientPool(max_idle_per_key=1)
    async with (
        pool.client(host.tag, lambda: make_client(host)) as first,
        pool.client(host.tag, lambda: make_client(host)) as second,
    ):
        await first.identity()
        await second.identity()
        assert host.state()["sessions"] == 2
    assert host.state()["sessions"] == 1  # iDRACs have few sessions: the second left
    await pool.aclose()


async def test_a_kept_client_survives_an_idrac_reset(host: SimHostHandle, make_client) -> None:
    """The reset wipes its token; once the iDRAC is back, the kept client logs in again
    on the 401. (A call made while the iDRAC is down fails as with any client, and the
    pool then drops the client.)"""
    pool = RedfishClientPool()
    async with pool.client(host.tag, lambda: make_client(host)) as client:
        await client.identity()
    host.offline(0.5)  # an iDRAC reset: offline, every session gone
    deadline = time.monotonic() + 10
    while not (host.state()["idrac_online"] and host.state()["lc_status"] == "Ready"):
        assert time.monotonic() < deadline, "the simulated iDRAC did not come back"
        await asyncio.sleep(0.01)
    assert host.state()["sessions"] == 0
    async with pool.client(host.tag, lambda: make_client(host)) as client:
        assert (await client.lifecycle_status()) is not None
    assert pool.created == 1
    await pool.aclose()
