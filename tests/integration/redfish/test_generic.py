"""A BMC without Dell OEM: the standard Redfish path only."""

from __future__ import annotations

import pytest

from integrations.redfish.errors import UnsupportedError
from integrations.redfish.flows import update_firmware
from integrations.redfish.models import JobStatus
from tests.integration.redfish.test_updates import BIOS, IDRAC


async def test_generic_identity_and_inventory(generic_host, make_client) -> None:
    """This BMC ignores $expand: the client falls back to reading members one by one."""
    async with make_client(generic_host) as client:
        identity = await client.identity()
        await client.transport.login()
        sent = client.transport.requests_sent
        inventory = await client.firmware_inventory()
        member_reads = client.transport.requests_sent - sent
        status = await client.lifecycle_status()
    assert not identity.dell_oem and identity.dell_system_id is None
    assert (identity.vendor, identity.service_tag) == ("Contoso", generic_host.tag)
    assert {c.id for c in inventory.installed()} >= {"BIOS", "BMC"}
    assert all(c.version for c in inventory.components)
    assert member_reads == 1 + len(inventory.components)
    assert status.ready


async def test_generic_update_through_task_service(generic_host, make_client, image_dir) -> None:
    seen: list = []
    async with make_client(generic_host) as client:
        outcome = await update_firmware(
            client, file=image_dir / BIOS, apply_time="OnReset", reboot=True,
            on_progress=seen.append,
        )  # fmt: skip
    assert JobStatus.SCHEDULED in [i.status for i in seen], "AwaitToActivate means scheduled"
    assert outcome.job.message_id == "Update.1.0.UpdateSuccessful"
    assert [(c.name, c.after) for c in outcome.changes] == [("BIOS", "2.11.2")]


async def test_generic_bmc_update_survives_the_bmc_reset(generic_host, make_client, image_dir):
    async with make_client(generic_host) as client:
        outcome = await update_firmware(client, file=image_dir / IDRAC, apply_time="Immediate")
    assert [c.after for c in outcome.changes] == ["7.10.30.00"]


async def test_generic_has_no_dell_job_queue_or_rollback(generic_host, make_client) -> None:
    async with make_client(generic_host) as client:
        with pytest.raises(UnsupportedError, match="no job queue"):
            await client.clear_job_queue()
        with pytest.raises(UnsupportedError, match="no Previous- firmware images"):
            await client.rollback("BIOS")
        assert await client.list_jobs() == []
