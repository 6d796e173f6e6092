"""A BMC without Dell OEM: the standard Redfish path only."""

from __future__ import annotations

import pytest

from integrations.redfish.errors import AuthenticationError, AuthSchemeError, UnsupportedError
from integrations.redfish.flows import update_firmware
from integrations.redfish.models import Credentials, JobStatus
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


async def test_no_session_service_means_http_basic(generic_host, make_client) -> None:
    """DSP0266 lets a service have no SessionService: identity, inventory and updates
    then go over HTTP Basic, and no session is ever opened."""
    generic_host.set_quirks(sessions=False)
    async with make_client(generic_host) as client:
        identity = await client.identity()
        inventory = await client.firmware_inventory()
        assert await client.transport.uses_basic()
    assert identity.service_tag == generic_host.tag
    assert {c.id for c in inventory.installed()} >= {"BIOS", "BMC"}
    assert generic_host.state()["sessions"] == 0


async def test_basic_refused_without_a_challenge_is_not_blamed_on_the_password(
    generic_host, make_client
) -> None:
    generic_host.set_quirks(basic_auth=False)
    async with make_client(generic_host, auth="basic") as client:
        with pytest.raises(AuthSchemeError) as refused:
            await client.identity()
    message = str(refused.value)
    assert "does not take HTTP Basic (no Basic challenge)" in message
    assert "Base.1.12.NoValidSession" in message
    assert "password" not in message and not message.endswith("None")


async def test_basic_refused_with_a_basic_challenge_is_the_password(
    generic_host, make_client
) -> None:
    wrong = Credentials(username="root", password="not-the-password")
    async with make_client(generic_host, auth="basic", credentials=wrong) as client:
        with pytest.raises(AuthenticationError, match=r"HTTP Basic, HTTP 401\).*check username"):
            await client.identity()


async def test_simple_update_with_targets_where_the_bmc_requires_them(
    generic_host, make_client, image_server
) -> None:
    generic_host.set_quirks(simple_update_targets=True)
    image = f"{image_server}/{BIOS}"
    async with make_client(generic_host) as client:
        with pytest.raises(UnsupportedError, match="requires Targets"):
            await update_firmware(client, image_uri=image, apply_time="OnReset")
        assert generic_host.state()["update_jobs"] == 0
        outcome = await update_firmware(
            client, image_uri=image, apply_time="OnReset", reboot=True, targets=["bios"]
        )
    assert [(c.name, c.after) for c in outcome.changes] == [("BIOS", "2.11.2")]
    assert outcome.job.message_id == "Update.1.0.UpdateSuccessful"


async def test_a_bmc_without_firmware_inventory_says_so(generic_host, make_client) -> None:
    generic_host.set_quirks(firmware_inventory=False)
    async with make_client(generic_host) as client:
        identity = await client.identity()
        with pytest.raises(UnsupportedError, match="links no FirmwareInventory"):
            await client.firmware_inventory()
    assert identity.vendor == "Contoso"


@pytest.mark.parametrize(("image", "apply_time"), [(BIOS, "OnReset"), (IDRAC, "Immediate")])
async def test_update_followed_through_a_task_monitor(
    generic_host, make_client, image_dir, image, apply_time
) -> None:
    """DSP0266 task monitors: the 202 names the monitor and carries the task; the monitor
    answers 202 while the task runs and the operation's 204 once it ended, so how the
    update ended is read from the task itself."""
    generic_host.set_quirks(task_monitor=True)
    async with make_client(generic_host) as client:
        ref = await client.push_update(image_dir / image, apply_time=apply_time)
        assert ref.location.startswith("/redfish/v1/TaskService/TaskMonitors/")
        assert ref.task == f"/redfish/v1/TaskService/Tasks/{ref.job_id}"
        info = await client.wait_for_job(ref, stop_at=frozenset({JobStatus.SCHEDULED}))
        if info.status is JobStatus.SCHEDULED:
            await client.power.reboot()
            info = await client.wait_for_job(ref)
    assert info.status is JobStatus.COMPLETED
    assert info.message_id == "Update.1.0.UpdateSuccessful"
