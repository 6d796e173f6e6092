"""Every injected fault ends in its own clearly worded outcome: no hang, no false success."""

from __future__ import annotations

import pytest

from integrations.redfish.errors import (
    AuthenticationError,
    BusyError,
    IdracOfflineError,
    JobFailedError,
    JobTimeoutError,
    LifecycleNotReadyError,
    RedfishConnectionError,
    SessionLimitError,
    VerificationError,
)
from integrations.redfish.flows import update_firmware
from tests.integration.redfish.test_updates import BIOS, DIAGS, IDRAC


async def test_job_fails_with_the_injected_message_id(host, make_client, image_dir) -> None:
    host.set_faults(job_fails="RED007")
    async with make_client(host) as client:
        with pytest.raises(JobFailedError, match="RED007 Unable to verify Update Package") as exc:
            await update_firmware(client, file=image_dir / BIOS, reboot=True)
    assert exc.value.has_message_id("RED007")
    assert host.state()["firmware"]["bios"] == "1.10.2"


async def test_hung_job_times_out(host, make_client, image_dir) -> None:
    host.set_faults(job_hangs=True)
    async with make_client(host, job_timeout_s=1.0) as client:
        with pytest.raises(JobTimeoutError, match=r"still Running \(30%\).*looks hung"):
            await update_firmware(client, file=image_dir / DIAGS, apply_time="Immediate")


async def test_image_download_failure(host, make_client, image_server) -> None:
    host.set_faults(download_fails=True)
    async with make_client(host) as client:
        with pytest.raises(JobFailedError, match=r"SYS261 .*network connection failed"):
            await update_firmware(client, image_uri=f"{image_server}/{BIOS}")


async def test_missing_image_on_the_share(host, make_client, image_server) -> None:
    async with make_client(host) as client:
        with pytest.raises(JobFailedError, match=r"SYS226 .*404"):
            await update_firmware(client, image_uri=f"{image_server}/BIOS_XXXXX_WN64_9.9.9.EXE")


async def test_file_that_is_no_update_package(host, make_client, image_dir) -> None:
    async with make_client(host) as client:
        with pytest.raises(JobFailedError, match="RED007"):
            await update_firmware(client, file=image_dir / "README.txt")


async def test_version_unchanged_after_reboot_is_not_a_success(host, make_client, image_dir):
    host.set_faults(version_unchanged=True)
    async with make_client(host) as client:
        with pytest.raises(VerificationError, match="no firmware version changed"):
            await update_firmware(client, file=image_dir / BIOS, reboot=True)
    assert host.state()["flashes"] == {"bios": 1}


async def test_idrac_that_stays_away_after_its_update(host, make_client, image_dir) -> None:
    host.set_faults(unreachable_s=4000)  # 20 s at the test time scale
    async with make_client(host, idrac_offline_timeout_s=1.0) as client:
        with pytest.raises(IdracOfflineError, match="unreachable for over 1 s while following"):
            await update_firmware(client, file=image_dir / IDRAC, apply_time="Immediate")


async def test_unreachable_idrac_is_a_connection_error(host, make_client) -> None:
    host.offline(4000)
    async with make_client(host, retries=2) as client:
        with pytest.raises(RedfishConnectionError, match="no answer"):
            await client.identity()


async def test_short_503_burst_is_retried(host, make_client) -> None:
    host.set_faults(busy_503=3)
    async with make_client(host, retries=4) as client:
        assert (await client.identity()).service_tag == host.tag


async def test_busy_upload_is_retried_and_submitted_once(host, make_client, image_dir):
    """RAC0679 refuses the multipart push twice; the retries carry the whole image again."""
    host.set_faults(submit_busy=2)
    async with make_client(host) as client:
        outcome = await update_firmware(client, file=image_dir / BIOS, reboot=True)
    assert [c.after for c in outcome.changes] == ["2.11.2"]
    assert host.state()["update_jobs"] == 1


async def test_long_503_burst_gives_up_with_the_message_id(host, make_client) -> None:
    host.set_faults(busy_503=1000)
    async with make_client(host, retries=3) as client:
        with pytest.raises(BusyError, match="SYS518") as exc:
            await client.identity()
    assert exc.value.status == 503


async def test_session_limit(host, make_client) -> None:
    host.set_faults(session_limit=True)
    async with make_client(host) as client:
        with pytest.raises(SessionLimitError, match="RAC0218"):
            await client.identity()


async def test_wrong_credentials_fault(host, make_client) -> None:
    host.set_faults(wrong_credentials=True)
    async with make_client(host) as client:
        with pytest.raises(AuthenticationError):
            await client.identity()


async def test_lifecycle_controller_stuck_blocks_the_update(host, make_client, image_dir):
    host.set_faults(lc_stuck_not_ready=True)
    async with make_client(host, lc_ready_timeout_s=0.5) as client:
        with pytest.raises(LifecycleNotReadyError, match="LCStatus=NotReady"):
            await update_firmware(client, file=image_dir / BIOS)
    assert host.state()["update_jobs"] == 0, "nothing may be submitted to a busy LC"


async def test_ignored_graceful_restart_is_forced(host, make_client, image_dir) -> None:
    host.set_faults(graceful_ignored=True)
    async with make_client(host, reboot_grace_s=0.5) as client:
        outcome = await update_firmware(client, file=image_dir / BIOS, reboot=True)
    assert outcome.forced_reboot and [c.after for c in outcome.changes] == ["2.11.2"]
