"""Reboot waits timed by what earlier reboots of the same kind showed (pacing): after a
few BIOS reboots the worker knows the LC's wrap-up after POST is the phase the wait ends
with, and the next reboot is still proven back, once, with the update verified."""

from __future__ import annotations

from integrations.redfish.flows import update_firmware
from integrations.redfish.pacing import DURATIONS, MIN_SAMPLES
from tests.integration.redfish.test_updates import BIOS

ONE_RESTART = ["notResponding", "connected"]


async def test_learned_phases_end_with_the_lc_wrap_up_and_keep_the_proof(
    pool, make_client, image_dir, vcenter
) -> None:
    DURATIONS.clear()
    key = "reboot GracefulRestart: Firmware Update: BIOS"
    for _ in range(MIN_SAMPLES + 1):
        host = pool.take()
        async with make_client(host) as client:
            outcome = await update_firmware(
                client, file=image_dir / BIOS, apply_time="OnReset", reboot=True
            )
        assert outcome.rebooted and not outcome.forced_reboot
        assert [(c.name, c.after) for c in outcome.changes] == [("BIOS", "2.11.2")]
        assert host.state()["flashes"] == {"bios": 1}
        assert vcenter.states_of(host.tag) == ONE_RESTART
    wrap_up = DURATIONS.window(key, "lc-busy")
    post = DURATIONS.window(key, "post")
    assert wrap_up is not None and wrap_up[2], "the LC's wrap-up is what the wait ends with"
    assert post is not None and not post[2]
