"""HostUpdateWorkflow: the runbook for one ESXi host, as an operator would run it.

    preflight (iDRAC and vCenter at once)
    -> enter maintenance, and meanwhile stage the firmware on the iDRAC
    -> reboot
    -> verify the versions (jobs done, inventory diff), and meanwhile wait for the
       vCenter reconnect and check health
    -> exit maintenance

Staging only downloads to the iDRAC and queues jobs for the next reboot (vLCM stages
without maintenance too), so it overlaps the evacuation instead of lengthening the time
in maintenance. The checks after the reboot only read, so they run together; all of
them pass before exit: a host that is not healthy keeps no VMs.

Each step that changes the host pushes its undo first (saga). On failure the undo stack
runs in reverse: firmware is rolled back (policy "rollback") or the host is held in
maintenance with an alert (policy "hold", or whenever the host is not healthy enough to
carry VMs again). The firmware undo stays until the host passed its checks after the
reboot: a host unhealthy with verified new firmware gets the previous images back too, is
checked again, and only then carries VMs. Activities are idempotent, so a crash and retry
never re-flashes.

The outcome is judged from versions read on the host, per component: "rolled_back" only
when something was put back; a preflight that cannot even read the host is a failure that
touched nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.names import Redfish, Store, Vcenter
    from domain.runbook import (
        ComponentTarget,
        Evacuation,
        FirmwareReading,
        HealthReport,
        HostJob,
        HostOutcome,
        HostRequest,
        HostStatus,
        HostStep,
        MaintenanceRequest,
        RebootRequest,
        ReturnVmsRequest,
        RollbackRequest,
        StagedFirmware,
        StageRequest,
        VerifyRequest,
        component_outcomes,
        preflight_outcome,
        preflight_verdict,
    )
    from domain.temporal_names import TaskQueue

from workflows.calls import RETRY, innermost, reason_of, run_activity
from workflows.preflight import MAINTENANCE_TIMEOUT, read_host

FIRMWARE_JOBS_TIMEOUT = timedelta(hours=2)
RECONNECT_TIMEOUT = timedelta(minutes=30)
# The reboot step waits until the host is back and settled (jobs applied in POST, LC
# ready), and fails with what it saw when this runs out: DRS gives that phase 50 min.
HOST_BACK_TIMEOUT = timedelta(minutes=50)
# Runbooks recorded before: a preflight error failed the workflow, a verified update was
# never reverted, and a failed runbook read no versions at its end.
HONEST_OUTCOMES = "honest-outcomes"
# Runbooks recorded before the orchestrator moved VMs itself never bring any back.
RETURN_MIGRATED_VMS = "return-migrated-vms"
# Runbooks recorded before held every failed host under policy "hold", touched or not.
HOLD_WHAT_WAS_TOUCHED = "hold-what-was-touched"


class HostHeld(Exception):
    """Compensation decided the host stays in maintenance for a human."""


class StepFailed(Exception):
    """A step finished but its verdict is failure (e.g. unhealthy after the update)."""


@workflow.defn
class HostUpdateWorkflow:
    def __init__(self) -> None:
        self.step = HostStep.PREFLIGHT  # the failed step, if one fails
        self.steps_now: tuple[HostStep, ...] = (HostStep.PREFLIGHT,)  # running at once
        self.undo: list[Callable[[], Awaitable[None]]] = []
        self.verified = False  # the new firmware is proven installed
        self.jobs_released = False  # staged jobs let run (reboot or immediate apply)
        self.pending: list[ComponentTarget] = []  # what this run changes
        self.before: dict[str, str] = {}  # target component id -> version at preflight
        self.after: dict[str, str] | None = {}  # ... now; None while unknown
        self.reverted: list[str] = []
        self.evacuated: dict[str, str] = {}  # VMs we moved off (DRS not fully automated)

    @workflow.query
    def current_step(self) -> str:
        return " + ".join(step.value for step in self.steps_now)

    @workflow.run
    async def run(self, job: HostJob) -> HostOutcome:
        self.job = job
        self.started = workflow.now()

        if job.preflight is not None:  # read while it waited in the queue
            idrac, vc_check = job.preflight.idrac, job.preflight.vcenter
        else:
            try:
                idrac, vc_check = await read_host(job)
            except ActivityError as error:  # wrong login, iDRAC or vCenter unreachable
                if not workflow.patched(HONEST_OUTCOMES):
                    raise
                return self.ended_at_preflight((HostStatus.FAILED, reason_of(error)), {})
        self.before = self.after = idrac.versions
        verdict = preflight_verdict(idrac, vc_check)
        if verdict is not None:
            return self.ended_at_preflight(verdict, idrac.versions)

        self.pending = idrac.pending
        try:
            await self.update()
        except (ActivityError, StepFailed) as error:
            failed_step, reason = self.step, reason_of(error)
            status = await self.compensate(reason)
            await self.read_what_is_left()
            if failed_step is HostStep.EXIT_MAINTENANCE and status is HostStatus.FAILED:
                # Only leaving maintenance failed, and the undo's own exit worked: the new
                # firmware is verified and healthy, and the host is back in service.
                return self.outcome(HostStatus.UPDATED, reason=f"{failed_step}: {reason}")
            refused = _maintenance_refused(error) and not self.jobs_released
            return self.outcome(
                status, failed_step, reason, refused and status is HostStatus.FAILED
            )
        return self.outcome(HostStatus.UPDATED)

    async def update(self) -> None:
        self.undo += [self.leave_maintenance, self.undo_firmware]
        self.after = None  # from the first job on, only a reading tells
        _, staged = await self.at_once(
            (HostStep.ENTER_MAINTENANCE, self.enter_maintenance()),
            (HostStep.STAGE_FIRMWARE, self.stage(self.pending)),
        )
        self.jobs_released = True
        if staged.reboot_required:
            await self.at_once((HostStep.REBOOT, self.reboot()))
        _, _, health = await self.at_once(
            (HostStep.VERIFY, self.verify(self.pending, staged.job_ids)),
            (HostStep.WAIT_RECONNECT, self.wait_reconnected()),
            (HostStep.POST_HEALTH, self.health()),
        )
        if not health.healthy:
            self.step = HostStep.POST_HEALTH
            raise StepFailed(f"unhealthy after the update: {health.detail}")
        self.undo.remove(self.undo_firmware)  # checked: the new firmware stays
        if self.job.policy.exit_maintenance_on_success:
            await self.at_once((HostStep.EXIT_MAINTENANCE, self.exit_maintenance()))
        self.steps_now = (HostStep.DONE,)

    # ---- the steps ---------------------------------------------------------------------

    async def enter_maintenance(self) -> None:
        evacuation = await self.vcenter(
            Vcenter.ENTER_MAINTENANCE,
            MaintenanceRequest.for_job(self.job, MAINTENANCE_TIMEOUT),
            Evacuation | None,  # None: recorded before the step returned its moves
            MAINTENANCE_TIMEOUT + timedelta(minutes=5),
        )
        self.evacuated = evacuation.moves if evacuation else {}

    async def stage(self, pending: list[ComponentTarget]) -> StagedFirmware:
        return await self.redfish(
            Redfish.STAGE_FIRMWARE,
            StageRequest(host=self.job.host, targets=pending, campaign_id=self.job.campaign_id),
            StagedFirmware,
            timedelta(minutes=30),
        )

    async def reboot(self) -> None:
        reboot = self.job.policy.reboot
        await self.redfish(
            Redfish.REBOOT_HOST,
            RebootRequest(
                host=self.job.host, mode=reboot.mode, grace_period_s=reboot.grace_period_s
            ),
            None,
            timedelta(seconds=reboot.grace_period_s) + HOST_BACK_TIMEOUT,
        )

    async def verify(self, pending: list[ComponentTarget], job_ids: list[str]) -> None:
        """Jobs done, then the inventory diff: every pending target is installed."""
        await self.redfish(
            Redfish.VERIFY_FIRMWARE,
            VerifyRequest(host=self.job.host, targets=pending, job_ids=job_ids),
            None,
            FIRMWARE_JOBS_TIMEOUT,
        )
        self.verified = True
        self.after = {**self.before, **{t.component_id: t.version for t in pending}}

    async def wait_reconnected(self) -> None:
        await self.vcenter(
            Vcenter.WAIT_RECONNECTED,
            MaintenanceRequest.for_job(self.job, RECONNECT_TIMEOUT),
            None,
            RECONNECT_TIMEOUT + timedelta(minutes=5),
        )

    async def health(self) -> HealthReport:
        return await self.redfish(
            Redfish.HEALTH, HostRequest(host=self.job.host), HealthReport, timedelta(minutes=5)
        )

    async def exit_maintenance(self) -> None:
        """Out of maintenance; then, by policy, the VMs we moved off come back."""
        await self.vcenter(
            Vcenter.EXIT_MAINTENANCE, HostRequest(host=self.job.host), None, timedelta(minutes=15)
        )
        policy = self.job.policy.migrated_vms
        if self.evacuated and policy == "return" and workflow.patched(RETURN_MIGRATED_VMS):
            request = ReturnVmsRequest(
                host=self.job.host,
                moves=self.evacuated,
                timeout_s=int(MAINTENANCE_TIMEOUT.total_seconds()),
            )
            try:  # the host is back in service either way: where its VMs run is no verdict
                await self.vcenter(
                    Vcenter.RETURN_VMS, request, None, MAINTENANCE_TIMEOUT + timedelta(minutes=5)
                )
            except ActivityError as error:
                await self.alert(f"VMs moved off the host did not come back: {reason_of(error)}")

    async def at_once(self, *steps: tuple[HostStep, Awaitable[Any]]) -> list[Any]:
        """Run independent steps together and let every one finish; if any failed, the
        first failed one in runbook order is the step reported."""
        self.steps_now = tuple(step for step, _ in steps)
        results = await asyncio.gather(*(call for _, call in steps), return_exceptions=True)
        for (step, _), result in zip(steps, results, strict=True):
            if isinstance(result, BaseException):
                self.step = step
                raise result
        return results

    # ---- compensation ------------------------------------------------------------------

    async def compensate(self, reason: str) -> HostStatus:
        """Unwind in reverse; any step that cannot undo safely holds the host instead."""
        self.steps_now = (HostStep.COMPENSATE,)
        try:
            for undo in reversed(self.undo):
                await undo()
        except (HostHeld, ActivityError) as held:
            await self.alert(f"held in maintenance: {reason}; {reason_of(held)}")
            return HostStatus.HELD
        return HostStatus.ROLLED_BACK if self.reverted else HostStatus.FAILED

    async def undo_firmware(self) -> None:
        if self.verified and not workflow.patched(HONEST_OUTCOMES):
            return  # recorded before: a verified update stayed, health alone decided
        if self.job.policy.on_failure == "hold" and await self.firmware_touched():
            raise HostHeld("policy is hold")
        reading: FirmwareReading | None = await self.redfish(
            Redfish.ROLLBACK_FIRMWARE,
            RollbackRequest(host=self.job.host, targets=self.pending, before=self.before),
            FirmwareReading,  # None: an earlier release's activity answered
            FIRMWARE_JOBS_TIMEOUT,
        )
        if reading is not None:  # what it did not target, this run never touched
            self.after = {**self.before, **reading.versions}
            self.reverted = reading.reverted

    async def firmware_touched(self) -> bool:
        """Whether this run let firmware jobs run or changed a version: policy "hold" keeps
        for a human what an update touched; a host failed before its jobs ran (maintenance
        refused, staging failed) has its staged jobs cancelled and goes back to service."""
        if self.verified or self.jobs_released or not workflow.patched(HOLD_WHAT_WAS_TOUCHED):
            return True
        await self.read_what_is_left()
        if self.after is None:  # unreadable: a human must look
            return True
        return any(
            self.after.get(t.component_id) != self.before.get(t.component_id) for t in self.pending
        )

    async def read_what_is_left(self) -> None:
        """After a failure whose firmware state no step proved: read the versions."""
        if self.after is not None or not workflow.patched(HONEST_OUTCOMES):
            return
        try:
            reading = await self.redfish(
                Redfish.READ_FIRMWARE,
                StageRequest(host=self.job.host, targets=self.job.targets),
                FirmwareReading,
                timedelta(minutes=5),
            )
        except ActivityError:
            return  # unreadable: the outcome says so (versions after: null)
        self.after = reading.versions

    async def leave_maintenance(self) -> None:
        """Give the host back to DRS only if it is healthy; otherwise hold it."""
        health = await self.health()
        if not health.healthy:
            raise HostHeld(f"host unhealthy after failure: {health.detail}")
        await self.exit_maintenance()

    async def alert(self, message: str) -> None:
        await workflow.execute_activity(
            Store.RAISE_ALERT,
            args=[self.job.campaign_id, self.job.host.service_tag, message],
            task_queue=TaskQueue.CAMPAIGNS,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )

    # ---- plumbing ----------------------------------------------------------------------

    async def redfish(
        self, name: str, arg: Any, result_type: type[Any] | None, start_to_close: timedelta
    ) -> Any:
        return await run_activity(
            TaskQueue.REDFISH, name, arg, result_type, start_to_close, self.heartbeat
        )

    async def vcenter(
        self, name: str, arg: Any, result_type: type[Any] | None, start_to_close: timedelta
    ) -> Any:
        return await run_activity(
            TaskQueue.VCENTER, name, arg, result_type, start_to_close, self.heartbeat
        )

    @property
    def heartbeat(self) -> timedelta:
        """How long any step may stay silent before Temporal retries it elsewhere: a worker
        killed mid-step is noticed in seconds, not after the step's whole timeout."""
        return timedelta(seconds=self.job.heartbeat_timeout_s)

    def ended_at_preflight(
        self, verdict: tuple[HostStatus, str], versions: dict[str, str]
    ) -> HostOutcome:
        return preflight_outcome(self.job, *verdict, versions, self.started, workflow.now())

    def outcome(
        self,
        status: HostStatus,
        failed_step: HostStep | None = None,
        reason: str = "",
        maintenance_refused: bool = False,
    ) -> HostOutcome:
        return HostOutcome(
            service_tag=self.job.host.service_tag,
            status=status,
            failed_step=failed_step,
            reason=reason,
            started_at=self.started,
            finished_at=workflow.now(),
            components=component_outcomes(
                self.job.targets,
                self.before,
                self.after,
                self.reverted,
                held=status is HostStatus.HELD,
            ),
            maintenance_refused=maintenance_refused,
        )


def _maintenance_refused(error: BaseException) -> bool:
    """vCenter's verdict that the host may not enter maintenance now (something changed
    since preflight: another host went down, a VM cannot move)."""
    cause = innermost(error)
    return isinstance(cause, ApplicationError) and cause.type == "MaintenanceBlocked"
