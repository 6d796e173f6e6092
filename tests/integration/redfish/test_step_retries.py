"""The runbook's Redfish steps run again after a worker died mid-step: they find the work
under way on the simulated iDRAC and wait for its end instead of judging one reading.

The simulator's "LC stuck" fault holds a host in its transition until the test lets it
go, so "returned too early" is told apart by what the host shows at the moment the step
returns, never by how long anything took.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.redfish_host import RedfishActivities
from activities.resources import Resources
from domain.runbook import (
    ComponentTarget,
    HostRequest,
    RebootRequest,
    RollbackRequest,
    StageRequest,
)
from integrations.redfish.errors import HostNotBackError
from tests.integration.redfish.conftest import SimHostHandle, VcenterRecorder

BIOS_IMAGE = "BIOS_8MRPC_WN64_2.11.2.EXE"
STEP_S = 60.0  # the step's start_to_close: ample, the simulated host needs about 2 s
LIVENESS_S = 60.0  # only guards against a hung test


def run(step: Callable[..., Any], arg: object, step_s: float = STEP_S) -> Any:
    """Run one activity as its Temporal worker would, with the step's timeout."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, start_to_close_timeout=timedelta(seconds=step_s))
    return env.run(step, arg)


def wait_for(host: SimHostHandle, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The host's control-endpoint state once CONDITION holds (a sync point, not a timer)."""
    give_up = time.monotonic() + LIVENESS_S
    while time.monotonic() < give_up:
        state = host.state()
        if condition(state):
            return state
        time.sleep(0.01)
    raise AssertionError(f"{host.tag} never reached the expected state: {host.state()}")


def release_when(
    host: SimHostHandle, condition: Callable[[dict[str, Any]], bool], **faults: Any
) -> Any:
    """Clear FAULTS (default: the stuck Lifecycle Controller) once CONDITION holds,
    from a thread, while the activity under test runs."""
    cleared = faults or {"lc_stuck_not_ready": False}

    def release() -> None:
        wait_for(host, condition)
        host.set_faults(**cleared)

    return asyncio.create_task(asyncio.to_thread(release))


def settled_state(state: dict[str, Any]) -> bool:
    return (state["power_state"], state["server_status"], state["lc_status"]) == (
        "On",
        "OutOfPOST",
        "Ready",
    )


def bios_target(images: str) -> ComponentTarget:
    return ComponentTarget(component_id="159", version="2.11.2", image_uri=f"{images}/{BIOS_IMAGE}")


async def stage_bios(activities: RedfishActivities, host: SimHostHandle, images: str) -> None:
    request = StageRequest(host=host.ref(), targets=[bios_target(images)])
    staged = await run(activities.stage_firmware, request)
    assert staged.reboot_required


def reboot_request(host: SimHostHandle) -> RebootRequest:
    return RebootRequest(host=host.ref(), mode="graceful", grace_period_s=3)


@pytest.fixture
def activities(resources: Resources) -> RedfishActivities:
    return RedfishActivities(resources)


async def test_retried_reboot_waits_for_the_host_in_post(
    host: SimHostHandle, activities: RedfishActivities, image_server: str, make_client
) -> None:
    """The first attempt's reboot is past power-off (jobs running, no job scheduled any
    more) when the retry starts: it returns only once the host is back, and then health
    reads healthy."""
    await stage_bios(activities, host, image_server)
    host.set_faults(lc_stuck_not_ready=True)
    async with make_client(host) as client:
        await client.reset("GracefulRestart")  # ...and the worker that sent it dies
    wait_for(host, lambda s: "RebootCompleted" in s["jobs"].values())
    released = release_when(
        host, lambda s: s["server_status"] == "OutOfPOST" and s["flashes"] == {"bios": 1}
    )

    await run(activities.reboot_host, reboot_request(host))
    at_return = host.state()
    await released

    assert settled_state(at_return), at_return
    assert set(at_return["jobs"].values()) == {"Completed", "RebootCompleted"}
    assert at_return["firmware"]["bios"] == "2.11.2" and at_return["flashes"] == {"bios": 1}
    report = await run(activities.health, HostRequest(host=host.ref()))
    assert report.healthy, report.detail
    assert report.detail == "power On, health OK, LC ready"


async def test_retried_reboot_that_never_settles_fails_at_the_step_deadline(
    host: SimHostHandle, activities: RedfishActivities, image_server: str, make_client
) -> None:
    """Held in POST's aftermath (LC never ready), the retry does not call it rebooted."""
    await stage_bios(activities, host, image_server)
    host.set_faults(lc_stuck_not_ready=True)
    async with make_client(host) as client:
        await client.reset("ForceRestart")
    wait_for(host, lambda s: "RebootCompleted" in s["jobs"].values())

    with pytest.raises(HostNotBackError, match="LC NotReady"):
        await run(activities.reboot_host, reboot_request(host), step_s=2.0)
    assert host.state()["flashes"] == {"bios": 1}


async def test_reboot_without_power_off_or_last_reset_time(
    host: SimHostHandle, activities: RedfishActivities, image_server: str, make_client
) -> None:
    """A warm restart that reads PowerState On throughout, on an iDRAC without
    LastResetTime (iDRAC9 3.34 / 5.10), is still seen going down and coming back."""
    host.set_quirks(warm_restart=True, last_reset_time=False)
    await stage_bios(activities, host, image_server)
    async with make_client(host) as client:
        assert "LastResetTime" not in await client.system()

    await run(activities.reboot_host, reboot_request(host))

    state = host.state()
    assert settled_state(state), state
    assert set(state["jobs"].values()) == {"Completed", "RebootCompleted"}
    assert state["firmware"]["bios"] == "2.11.2" and state["flashes"] == {"bios": 1}


async def test_health_during_post_waits_for_the_settled_answer(
    host: SimHostHandle, activities: RedfishActivities, vcenter: VcenterRecorder, make_client
) -> None:
    host.set_faults(lc_stuck_not_ready=True)
    async with make_client(host) as client:
        await client.reset("ForceRestart")
    released = release_when(
        host, lambda _: vcenter.states_of(host.tag) == ["notResponding", "connected"]
    )

    report = await run(activities.health, HostRequest(host=host.ref()))
    at_return = host.state()
    await released

    assert report.healthy, report.detail
    assert settled_state(at_return), at_return


async def test_settled_critical_health_is_reported_unhealthy(
    host: SimHostHandle, activities: RedfishActivities, vcenter: VcenterRecorder, make_client
) -> None:
    host.set_faults(critical_after_boot=True)
    async with make_client(host) as client:
        await client.reset("ForceRestart")
    wait_for(host, lambda _: vcenter.states_of(host.tag) == ["notResponding", "connected"])

    report = await run(activities.health, HostRequest(host=host.ref()))

    assert not report.healthy
    assert report.detail == "power On, health Critical, LC ready"


async def test_health_still_in_transition_at_the_deadline_is_unhealthy(
    host: SimHostHandle, activities: RedfishActivities
) -> None:
    host.set_faults(lc_stuck_not_ready=True)

    report = await run(activities.health, HostRequest(host=host.ref()), step_s=1.0)

    assert not report.healthy
    assert report.detail.startswith("power On, health OK, LC NotReady (still changing after")


async def test_retried_rollback_waits_for_the_rollback_under_way(
    host: SimHostHandle, activities: RedfishActivities, image_server: str, make_client
) -> None:
    """The first rollback attempt's reboot is applying the Previous- image when the retry
    starts: the retry judges the inventory only afterwards, so it does not "roll back"
    the rollback (which would flash the update again)."""
    await stage_bios(activities, host, image_server)
    await run(activities.reboot_host, reboot_request(host))
    host.set_faults(job_held=True)
    async with make_client(host) as client:
        await client.rollback("159")  # the first attempt; its worker dies in the reboot
        await client.reset("ForceRestart")
    host.set_faults(lc_stuck_not_ready=True)
    seen = wait_for(host, lambda s: "Running" in s["jobs"].values())["requests"]
    # The rollback goes on only once the retry is asking: it finds it under way.
    resumed = release_when(host, lambda s: s["requests"] > seen + 2, job_held=False)
    released = release_when(
        host, lambda s: s["server_status"] == "OutOfPOST" and s["flashes"] == {"bios": 2}
    )

    request = RollbackRequest(host=host.ref(), targets=[bios_target(image_server)])
    await run(activities.rollback_firmware, request)
    await resumed
    await released

    state = host.state()
    assert state["firmware"]["bios"] == "1.10.2"
    assert state["flashes"] == {"bios": 2}, "updated once, rolled back once"
