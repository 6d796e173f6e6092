"""Firmware updates end to end: every path of the state machine, verified by inventory."""

from __future__ import annotations

import pytest

from integrations.redfish.flows import rollback_firmware, update_firmware
from integrations.redfish.inventory import diff_inventory
from integrations.redfish.models import JobStatus

BIOS = "BIOS_8MRPC_WN64_2.11.2.EXE"
IDRAC = "iDRAC-with-Lifecycle-Controller_Firmware_XXXXX_WN64_7.10.30.00_A00.EXE"
DIAGS = "Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE"
CPLD = "CPLD_Firmware_WN64_1.0.7_A00.EXE"
NIC = "Network_Firmware_6FD9P_WN64_22.00.7_A00.EXE"


def statuses(seen: list) -> list[JobStatus]:
    return [info.status for info in seen]


async def test_bios_push_is_scheduled_then_applied_by_reboot(
    host, make_client, image_dir, vcenter
) -> None:
    seen: list = []
    async with make_client(host) as client:
        outcome = await update_firmware(
            client, file=image_dir / BIOS, apply_time="OnReset", reboot=True,
            on_progress=seen.append,
        )  # fmt: skip
    assert JobStatus.SCHEDULED in statuses(seen)
    assert outcome.job.status is JobStatus.COMPLETED and outcome.rebooted
    assert not outcome.forced_reboot
    assert [(c.name, c.before, c.after) for c in outcome.changes] == [("BIOS", "1.10.2", "2.11.2")]
    state = host.state()
    assert state["firmware"]["bios"] == "2.11.2" and state["previous"]["bios"] == "1.10.2"
    assert state["update_jobs"] == 1 and state["flashes"] == {"bios": 1}
    assert vcenter.states_of(host.tag) == ["notResponding", "connected"]


async def test_on_reset_without_reboot_stays_pending(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        outcome = await update_firmware(client, file=image_dir / BIOS, apply_time="OnReset")
    assert outcome.pending_reboot and outcome.job.status is JobStatus.SCHEDULED
    assert not outcome.changes
    assert host.state()["firmware"]["bios"] == "1.10.2"


async def test_simple_update_from_http_applies_immediately(host, make_client, image_server) -> None:
    """Diagnostics need no reboot: downloaded, run, completed, version changed."""
    seen: list = []
    async with make_client(host) as client:
        outcome = await update_firmware(
            client, image_uri=f"{image_server}/{DIAGS}", apply_time="Immediate",
            on_progress=seen.append, expected_version="4302A01",
        )  # fmt: skip
    assert JobStatus.DOWNLOADING in statuses(seen) or JobStatus.RUNNING in statuses(seen)
    assert [(c.before, c.after) for c in outcome.changes] == [("4301A73", "4302A01")]
    assert not outcome.rebooted


async def test_immediate_bios_update_reboots_the_host_itself(
    host, make_client, image_server, vcenter
) -> None:
    async with make_client(host) as client:
        outcome = await update_firmware(
            client, image_uri=f"{image_server}/{BIOS}", apply_time="Immediate"
        )
    assert outcome.job.status is JobStatus.COMPLETED and not outcome.rebooted
    assert [c.after for c in outcome.changes] == ["2.11.2"]
    assert vcenter.states_of(host.tag) == ["notResponding", "connected"]


async def test_idrac_update_survives_the_idracs_own_reset(host, make_client, image_dir) -> None:
    seen: list = []
    async with make_client(host) as client:
        outcome = await update_firmware(
            client, file=image_dir / IDRAC, apply_time="Immediate", on_progress=seen.append
        )
        assert (await client.identity()).bmc_version == "7.10.30.00"
    assert JobStatus.IDRAC_OFFLINE in statuses(seen), "the iDRAC must really have gone away"
    assert outcome.job.status is JobStatus.COMPLETED
    assert [(c.before, c.after) for c in outcome.changes] == [("7.00.00.00", "7.10.30.00")]
    assert host.state()["sessions"] == 0


async def test_image_known_only_by_manifest(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        outcome = await update_firmware(
            client, file=image_dir / "firmimgFIT.d9", apply_time="Immediate"
        )
    assert [c.after for c in outcome.changes] == ["7.20.10.50"]


async def test_cpld_completes_but_needs_a_power_cycle(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        pending = await update_firmware(client, file=image_dir / CPLD, apply_time="Immediate")
        assert pending.job.status is JobStatus.COMPLETED_NEEDS_REBOOT and pending.pending_reboot
        assert host.state()["firmware"]["cpld"] == "1.0.6"
    other = host  # the same host: now let the flow power-cycle it
    async with make_client(other) as client:
        outcome = await update_firmware(
            client, file=image_dir / CPLD, apply_time="Immediate", reboot=True
        )
    assert outcome.rebooted and [c.after for c in outcome.changes] == ["1.0.7"]


async def test_rollback_restores_the_previous_version(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        await update_firmware(client, file=image_dir / BIOS, apply_time="OnReset", reboot=True)
        outcome = await rollback_firmware(client, "BIOS", reboot=True)
    assert [(c.before, c.after) for c in outcome.changes] == [("2.11.2", "1.10.2")]
    assert "Rollback" in (outcome.job.name or "")
    assert host.state()["update_jobs"] == 2


async def test_rollback_of_an_unknown_component_names_the_choices(
    host, make_client, image_dir
) -> None:
    from integrations.redfish.errors import NotFoundError

    async with make_client(host) as client:
        await update_firmware(client, file=image_dir / BIOS, apply_time="OnReset", reboot=True)
        with pytest.raises(NotFoundError, match=r"'raid' matches no rollback image.*BIOS \(159\)"):
            await client.rollback("raid")


async def test_job_queue_list_and_clear(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        await update_firmware(client, file=image_dir / BIOS, apply_time="OnReset")
        jobs = await client.list_jobs()
        assert [j.status for j in jobs] == [JobStatus.SCHEDULED]
        assert jobs[0].name == "Firmware Update: BIOS"
        await client.clear_job_queue()
        assert await client.list_jobs() == []
        await client.power.reboot()
    assert host.state()["firmware"]["bios"] == "1.10.2", "a cleared job must not apply"


async def test_forced_clear_waits_out_the_stale_ready(host, make_client) -> None:
    """JID_CLEARALL_FORCE restarts LC services, but LCStatus keeps saying Ready for a while.

    One confirmation only, so that the settle step alone must see through the stale Ready.
    """
    async with make_client(host, ready_confirmations=1) as client:
        await client.clear_job_queue(force=True)
        await client.wait_until_ready(expect_transition=True)
    assert host.state()["lc_status"] == "Ready"


async def test_reboot_waits_for_the_host_to_come_back(host, make_client, vcenter) -> None:
    async with make_client(host) as client:
        forced = await client.power.reboot()
    state = host.state()
    assert not forced
    assert (state["power_state"], state["server_status"], state["lc_status"]) == (
        "On",
        "OutOfPOST",
        "Ready",
    )
    assert vcenter.states_of(host.tag) == ["notResponding", "connected"]


async def test_two_staged_components_apply_in_one_reboot(host, make_client, image_server):
    """Stage BIOS and NIC for the next reset, reboot once: both land, each flashed once."""
    async with make_client(host) as client:
        before = await client.firmware_inventory()
        refs = [
            await client.simple_update(f"{image_server}/{name}", apply_time="OnReset")
            for name in (BIOS, NIC)
        ]
        for ref in refs:
            info = await client.wait_for_job(ref, stop_at=frozenset({JobStatus.SCHEDULED}))
            assert info.status is JobStatus.SCHEDULED
        await client.power.reboot()
        for ref in refs:
            assert (await client.wait_for_job(ref)).status is JobStatus.COMPLETED
        changes = diff_inventory(before, await client.firmware_inventory())
    assert sorted((c.component_id, c.after) for c in changes) == [
        ("108255", "22.00.7"),
        ("159", "2.11.2"),
    ]
    assert host.state()["flashes"] == {"bios": 1, "nic": 1}
    reboot_jobs = [j for j in host.state()["jobs"].values() if j == "RebootCompleted"]
    assert len(reboot_jobs) == 1


async def test_idrac_rollback_resets_the_idrac_again(host, make_client, image_dir) -> None:
    seen: list = []
    async with make_client(host) as client:
        await update_firmware(client, file=image_dir / IDRAC, apply_time="Immediate")
        outcome = await rollback_firmware(client, "idrac", on_progress=seen.append)
    assert JobStatus.IDRAC_OFFLINE in statuses(seen)
    assert [(c.before, c.after) for c in outcome.changes] == [("7.10.30.00", "7.00.00.00")]
    assert not outcome.rebooted, "an iDRAC rollback needs no host reboot"
