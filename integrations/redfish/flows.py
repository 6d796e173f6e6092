"""Whole firmware operations: submit, follow, reboot when asked, then prove by inventory.

"Job completed" is never taken as proof (OMAM #59): every successful run ends with an
inventory diff, and no change (or not the expected version) is a VerificationError.
"""

from __future__ import annotations

from pathlib import Path

from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import VerificationError
from integrations.redfish.inventory import diff_inventory, target_uris
from integrations.redfish.models import (
    FirmwareInventory,
    JobInfo,
    JobRef,
    JobStatus,
    UpdateOutcome,
)
from integrations.redfish.tracker import ProgressCallback

_WAITS_FOR_REBOOT = frozenset({JobStatus.SCHEDULED})


async def update_firmware(
    client: RedfishClient,
    *,
    image_uri: str | None = None,
    file: Path | None = None,
    apply_time: str = "OnReset",
    reboot: bool = False,
    expected_version: str | None = None,
    targets: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> UpdateOutcome:
    """Apply one image; with REBOOT, also restart the host and verify the new version.
    TARGETS name the components the image is for, where a BMC needs them."""
    if (image_uri is None) == (file is None):
        raise ValueError("give exactly one of image_uri or file")
    await client.wait_until_ready()
    before = await client.firmware_inventory()
    uris = target_uris(before, targets, client.host) if targets else None
    if file is not None:
        ref = await client.push_update(file, apply_time=apply_time, targets=uris)
    else:
        assert image_uri is not None
        ref = await client.simple_update(image_uri, apply_time=apply_time, targets=uris)
    return await _follow(client, ref, before, apply_time, reboot, expected_version, on_progress)


async def rollback_firmware(
    client: RedfishClient,
    component: str,
    *,
    reboot: bool = False,
    on_progress: ProgressCallback | None = None,
) -> UpdateOutcome:
    """Install the Previous- image of COMPONENT and verify that version is now running."""
    await client.wait_until_ready()
    before = await client.firmware_inventory()
    ref, image = await client.rollback(component, apply_time="OnReset")
    return await _follow(client, ref, before, "OnReset", reboot, image.version, on_progress)


async def _follow(
    client: RedfishClient,
    ref: JobRef,
    before: FirmwareInventory,
    apply_time: str,
    reboot: bool,
    expected_version: str | None,
    on_progress: ProgressCallback | None,
) -> UpdateOutcome:
    # With Immediate the iDRAC reboots the host itself: Scheduled is only a passing state.
    stop_at = _WAITS_FOR_REBOOT if apply_time == "OnReset" else frozenset()
    info = await client.wait_for_job(ref, stop_at=stop_at, on_progress=on_progress)
    outcome = UpdateOutcome(job=info)
    if info.status is JobStatus.SCHEDULED:
        if not reboot:
            outcome.pending_reboot = True
            return outcome
        outcome.forced_reboot = await client.power.reboot("GracefulRestart")
        outcome.rebooted = True
        info = await client.wait_for_job(ref, on_progress=on_progress)
    if info.status is JobStatus.COMPLETED_NEEDS_REBOOT:
        if not reboot:
            outcome.job, outcome.pending_reboot = info, True
            return outcome
        outcome.forced_reboot = await client.power.reboot(_reset_type_for(info))
        outcome.rebooted = True
    outcome.job = info
    await client.wait_until_ready()
    after = await client.firmware_inventory()
    outcome.changes = diff_inventory(before, after)
    _verify(client, info, outcome, expected_version)
    return outcome


def _reset_type_for(info: JobInfo) -> str:
    """Jobs that ask for a virtual A/C cycle name ResetType 'PowerCycle' in their message."""
    return (
        "PowerCycle"
        if "powercycle" in (info.message or "").lower().replace(" ", "")
        else ("GracefulRestart")
    )


def _verify(
    client: RedfishClient, info: JobInfo, outcome: UpdateOutcome, expected: str | None
) -> None:
    if not outcome.changes:
        raise VerificationError(
            f"job {info.job_id} reported {info.status.value} but no firmware version changed "
            "(inventory before and after are identical)",
            host=client.host,
            message_id=info.message_id,
        )
    if expected and not any(c.after == expected for c in outcome.changes):
        seen = ", ".join(f"{c.name} {c.before} -> {c.after}" for c in outcome.changes)
        raise VerificationError(
            f"job {info.job_id} completed but version {expected} is not installed ({seen})",
            host=client.host,
            message_id=info.message_id,
        )
