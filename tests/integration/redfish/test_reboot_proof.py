"""A reboot is proven with what real iDRACs give: no LastResetTime (iDRAC9 4.x/5.x
captures), and warm restarts that keep PowerState On at every poll.

"Proven, not forced" is judged by what the host lived through: the vCenter recorder
sees each restart of the simulated host (one "notResponding" per power-down), so a
restart the client missed and forced shows up as a second one.
"""

from __future__ import annotations

import pytest

from integrations.redfish.flows import update_firmware
from tests.integration.redfish.conftest import OLDER_LINES, SimHostHandle
from tests.integration.redfish.test_updates import BIOS

ONE_RESTART = ["notResponding", "connected"]


def older_line_host(pool, line: str, *, warm: bool) -> SimHostHandle:
    host = pool.take(personality=line)
    host.set_quirks(warm_restart=warm)
    return host


@pytest.mark.parametrize("line", OLDER_LINES)
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
async def test_update_and_reboot_on_lines_without_last_reset_time(
    pool, line, warm, make_client, image_dir, vcenter
) -> None:
    """The staged BIOS job starting and ServerStatus leaving OutOfPOST prove the restart."""
    host = older_line_host(pool, line, warm=warm)
    async with make_client(host) as client:
        assert "LastResetTime" not in await client.system()
        outcome = await update_firmware(
            client, file=image_dir / BIOS, apply_time="OnReset", reboot=True
        )
    assert outcome.rebooted and not outcome.forced_reboot
    assert [(c.name, c.after) for c in outcome.changes] == [("BIOS", "2.11.2")]
    assert host.state()["flashes"] == {"bios": 1}
    assert vcenter.states_of(host.tag) == ONE_RESTART


@pytest.mark.parametrize("line", OLDER_LINES)
async def test_plain_warm_restart_without_jobs_or_last_reset_time(
    pool, line, make_client, vcenter
) -> None:
    """No staged job, no Off, no LastResetTime: ServerStatus InPOST and the LC alone."""
    host = older_line_host(pool, line, warm=True)
    async with make_client(host) as client:
        forced = await client.power.reboot("GracefulRestart")
    assert not forced
    assert vcenter.states_of(host.tag) == ONE_RESTART
    assert host.state()["power_state"] == "On"


async def test_generic_warm_restart_proven_by_boot_progress(
    generic_host, make_client, vcenter
) -> None:
    """A generic BMC has no Lifecycle Controller and here no LastResetTime either: its
    BootProgress (LastState leaving OSRunning, a new LastStateTime) is the proof."""
    generic_host.set_quirks(warm_restart=True, last_reset_time=False)
    async with make_client(generic_host) as client:
        system = await client.system()
        assert "LastResetTime" not in system
        assert system["BootProgress"]["LastState"] == "OSRunning"
        forced = await client.power.reboot("GracefulRestart")
        after = await client.system()
    assert not forced
    assert vcenter.states_of(generic_host.tag) == ONE_RESTART
    assert after["BootProgress"]["LastState"] == "OSRunning"
    assert after["BootProgress"]["LastStateTime"] != system["BootProgress"]["LastStateTime"]
