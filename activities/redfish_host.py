"""Redfish activities of the host runbook: thin, idempotent wrappers over the iDRAC client.

Every activity heartbeats, so a killed worker's step is retried within the heartbeat
timeout. Idempotency is what makes a crashed worker harmless: staging looks for jobs already in the
queue and for versions already installed before it creates a job; reboot, verification,
rollback and health first wait for whatever is under way on the host (a reboot, jobs
running, POST) and judge only a settled host.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit_trail import FIRMWARE_FLASH, FIRMWARE_ROLLBACK, audit_host_action
from activities.deadline import wait_budget_s
from activities.heartbeat import heartbeating_task
from activities.names import Redfish
from activities.resources import Resources
from domain.runbook import (
    ComponentTarget,
    FirmwareReading,
    HealthReport,
    HostRequest,
    IdracPreflight,
    RebootRequest,
    RollbackRequest,
    StagedFirmware,
    StageRequest,
    VerifyRequest,
)
from integrations.redfish.client import RedfishClient
from integrations.redfish.flows import rollback_firmware
from integrations.redfish.host_state import HEALTHY, read_host_state, settled_health
from integrations.redfish.inventory import matches
from integrations.redfish.models import FirmwareInventory, JobInfo, JobRef, JobStatus


def not_installed(
    inventory: FirmwareInventory, targets: list[ComponentTarget]
) -> list[ComponentTarget]:
    installed = inventory.installed()
    return [
        target
        for target in targets
        if not any(
            matches(c, target.component_id) and c.version == target.version for c in installed
        )
    ]


def versions_of(inventory: FirmwareInventory, targets: list[ComponentTarget]) -> dict[str, str]:
    """target component id -> installed version (several devices: their versions, joined)."""
    installed = inventory.installed()
    versions = {}
    for target in targets:
        found = sorted({c.version for c in installed if matches(c, target.component_id)})
        if found:
            versions[target.component_id] = ", ".join(found)
    return versions


class RedfishActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Redfish.PREFLIGHT)
    async def preflight(self, request: StageRequest) -> IdracPreflight:
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            identity = await client.identity()
            lifecycle = await client.lifecycle_status()
            inventory = await client.firmware_inventory()
            open_jobs = [job for job in await client.list_jobs() if not job.status.terminal]
        blockers = []
        if identity.service_tag.upper() != request.host.service_tag.upper():
            blockers.append(
                f"iDRAC {request.host.idrac_address} reports service tag {identity.service_tag}, "
                f"expected {request.host.service_tag}: wrong address in the inventory"
            )
        if identity.health_rollup not in HEALTHY:
            blockers.append(f"server health is {identity.health_rollup}")
        if not lifecycle.ready:
            blockers.append(f"Lifecycle Controller not ready ({lifecycle.lc_status})")
        if open_jobs:
            listed = ", ".join(job.describe() for job in open_jobs)
            blockers.append(f"job queue not empty: {listed}")
        return IdracPreflight(
            installed={c.component_id or c.name: c.version for c in inventory.installed()},
            pending=not_installed(inventory, request.targets),
            blockers=blockers,
            versions=versions_of(inventory, request.targets),
        )

    @activity.defn(name=Redfish.STAGE_FIRMWARE)
    async def stage_firmware(self, request: StageRequest) -> StagedFirmware:
        """Create one OnReset job per component not yet at target, unless jobs already exist."""
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            # Preflight saw an empty queue: any open job now is ours from an earlier attempt.
            open_jobs = [job for job in await client.list_jobs() if not job.status.terminal]
            if not open_jobs:
                todo = not_installed(await client.firmware_inventory(), request.targets)
                for target in todo:
                    link = self.resources.package_link(target.image_uri, request.campaign_id)
                    await client.simple_update(link, apply_time="OnReset")
                open_jobs = [job for job in await client.list_jobs() if not job.status.terminal]
            jobs = [await self._settled(client, job.job_id) for job in open_jobs]
        failed = [job.describe() for job in jobs if job.status is JobStatus.FAILED]
        if failed:
            raise ApplicationError(
                f"staging failed: {'; '.join(failed)}", type="StagingFailed", non_retryable=True
            )
        return StagedFirmware(
            job_ids=[job.job_id for job in jobs],
            reboot_required=any(job.status is JobStatus.SCHEDULED for job in jobs),
        )

    async def _settled(self, client: RedfishClient, job_id: str) -> JobInfo:
        """Follow a job until it waits for the reboot (or ends)."""
        return await client.wait_for_job(
            await _ref(client, job_id), stop_at=frozenset({JobStatus.SCHEDULED})
        )

    @activity.defn(name=Redfish.REBOOT_HOST)
    async def reboot_host(self, request: RebootRequest) -> None:
        """Reboot to apply the staged jobs; return once the host is back and settled.

        A retry after a worker died mid-reboot finds no job waiting for a reboot while
        the host is still in POST applying them: whatever is under way (a reboot job,
        jobs running, the LC not ready, POST, power Off) is waited for first, and only
        jobs still waiting for a reboot after that get one."""
        budget = wait_budget_s(self.resources.redfish_options.host_back_timeout_s)
        async with (
            heartbeating_task(),
            await self.resources.redfish(
                request.host,
                reboot_grace_s=float(request.grace_period_s),
                host_back_timeout_s=budget,
            ) as client,
        ):
            state = await read_host_state(client)
            under_way = state.under_way()
            if under_way:
                activity.logger.info("under way: %s; waiting for the host", "; ".join(under_way))
                state = await client.power.wait_host_back()
            if not state.waiting_for_reboot:
                activity.logger.info("no job waits for a reboot: host rebooted and back")
                return
            reset = "ForceRestart" if request.mode == "force" else "GracefulRestart"
            # The reading that decided to reboot is the "before" of the reboot.
            await client.power.reboot(reset, before=state)

    @activity.defn(name=Redfish.VERIFY_FIRMWARE)
    async def verify_firmware(self, request: VerifyRequest) -> None:
        """Jobs finished and the host settled (out of POST, LC ready), then the inventory,
        not the job state, proves the update (a job can lie)."""
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            for job_id in request.job_ids:
                info = await client.wait_for_job(await _ref(client, job_id))
                if info.status is JobStatus.FAILED:
                    raise ApplicationError(
                        f"firmware job failed: {info.describe()}",
                        type="FirmwareJobFailed",
                        non_retryable=True,
                    )
            await client.power.wait_host_back()
            inventory = await client.firmware_inventory()
        missing = not_installed(inventory, request.targets)
        if missing:
            wanted = ", ".join(f"{t.component_id} {t.version}" for t in missing)
            raise ApplicationError(
                f"jobs finished but the inventory does not show {wanted}",
                type="VersionMismatch",
                non_retryable=True,
            )
        flashed = "; ".join(_flashed(inventory, target) for target in request.targets)
        await asyncio.to_thread(
            audit_host_action, self.resources, FIRMWARE_FLASH, request.host.service_tag, flashed
        )

    @activity.defn(name=Redfish.ROLLBACK_FIRMWARE)
    async def rollback_firmware(self, request: RollbackRequest) -> FirmwareReading:
        """Cancel what has not been applied; reinstall the Previous- image of what this run
        applied. A component not at its target was never changed by us: it is left alone
        (its Previous- image may be an older campaign's, which must not be undone). Only
        what was put back is audited, and reported as reverted."""
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            # What was applied is judged once nothing is under way (a retry may find the
            # host in POST, applying the update or an earlier attempt's rollback).
            await client.power.wait_host_back()
            if any(not j.status.terminal for j in await client.list_jobs()):
                await client.clear_job_queue()
            inventory = await client.firmware_inventory()
            applied = [t for t in request.targets if t not in not_installed(inventory, [t])]
            # A retry may find the revert done by the attempt that died: the component is
            # back at its version from before this run and keeps this run's target as its
            # Previous- image. (Only on a retry: on a first attempt that would be an older
            # campaign's revert.)
            earlier = [
                t
                for t in request.targets
                if activity.info().attempt > 1
                and t not in applied
                and _put_back(inventory, t, request.before.get(t.component_id))
            ]
            reverted = [
                await rollback_firmware(client, target.component_id, reboot=True)
                for target in applied
            ]
            if reverted:
                inventory = await client.firmware_inventory()
        changes = "; ".join(
            [
                *(
                    f"{c.component_id or c.name} {c.before} -> {c.after}"
                    for r in reverted
                    for c in r.changes
                ),
                *(
                    f"{t.component_id} {t.version} -> {request.before[t.component_id]}"
                    for t in earlier
                ),
            ]
        )
        if changes:
            await asyncio.to_thread(
                audit_host_action,
                self.resources,
                FIRMWARE_ROLLBACK,
                request.host.service_tag,
                changes,
            )
        return FirmwareReading(
            versions=versions_of(inventory, request.targets),
            reverted=[target.component_id for target in applied + earlier],
        )

    @activity.defn(name=Redfish.READ_FIRMWARE)
    async def read_firmware(self, request: StageRequest) -> FirmwareReading:
        """The targets' versions as the iDRAC shows them now: what a failed runbook leaves
        on a held host (no wait for it to settle: a held host may never settle)."""
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            inventory = await client.firmware_inventory()
        return FirmwareReading(versions=versions_of(inventory, request.targets))

    @activity.defn(name=Redfish.HEALTH)
    async def health(self, request: HostRequest) -> HealthReport:
        """Healthy only on a settled answer (power On, health OK, LC ready, read twice in
        a row); while the host is in POST or its LC not ready, keep reading within the
        step's time and report the last reading only at the deadline."""
        budget = wait_budget_s(self.resources.redfish_options.lc_ready_timeout_s)
        async with heartbeating_task(), await self.resources.redfish(request.host) as client:
            state, settled = await settled_health(client, budget)
        detail = state.describe()
        if not settled:
            detail += f" (still changing after {budget:g} s)"
        return HealthReport(healthy=settled and state.healthy, detail=detail)

    def all(self) -> list[object]:
        return [
            self.preflight,
            self.stage_firmware,
            self.reboot_host,
            self.verify_firmware,
            self.rollback_firmware,
            self.read_firmware,
            self.health,
        ]


def _flashed(inventory: FirmwareInventory, target: ComponentTarget) -> str:
    """``<component> <from> -> <to>``: the iDRAC keeps the replaced image as Previous-."""
    before = next(
        (c.version for c in inventory.previous() if matches(c, target.component_id)), None
    )
    return f"{target.component_id} {before or '?'} -> {target.version}"


def _put_back(inventory: FirmwareInventory, target: ComponentTarget, before: str | None) -> bool:
    """At BEFORE again, with TARGET kept as the Previous- image: reverted to BEFORE."""
    now = versions_of(inventory, [target]).get(target.component_id)
    kept = any(
        matches(c, target.component_id) and c.version == target.version
        for c in inventory.previous()
    )
    return kept and before is not None and now == before != target.version


async def _ref(client: RedfishClient, job_id: str) -> JobRef:
    jobs = await client.dell_link("Jobs")
    location = f"{jobs}/{job_id}" if jobs else f"/redfish/v1/TaskService/Tasks/{job_id}"
    return JobRef(job_id=job_id, location=location)
