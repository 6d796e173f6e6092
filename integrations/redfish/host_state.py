"""What the server is doing right now, as the iDRAC reports it, in one observation.

A retried step must tell "nothing happened yet" from "something is under way": after a
worker dies mid-reboot the host may be shutting down, in POST, applying its staged jobs
or waiting for its Lifecycle Controller. The signals are the ones real iDRAC9s give:
PowerState, Dell's GetRemoteServicesAPIStatus (LCStatus, ServerStatus, Status) and the
job queue (reference §5.3, §6, §7). LastResetTime and BootProgress are extra hints where a
BMC has them: the iDRAC9 3.34 (SOI system.json) and 5.x (ISRV UriSystems.md, bmclib R6515)
captures have neither, and a warm restart may keep PowerState On between two polls.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from integrations.redfish.documents import dig
from integrations.redfish.errors import BusyError, RedfishConnectionError, plain_text
from integrations.redfish.models import JobInfo, JobStatus, LifecycleStatus

if TYPE_CHECKING:
    from integrations.redfish.client import RedfishClient

# Dell names its reboot jobs RID_ (reference §6); they are not firmware to apply.
_REBOOT_JOB_PREFIX = "RID_"
_JOB_UNDER_WAY = frozenset(
    {JobStatus.QUEUED, JobStatus.DOWNLOADING, JobStatus.RUNNING, JobStatus.IDRAC_OFFLINE}
)
HEALTHY = frozenset({None, "OK"})


class HostState(BaseModel):
    """One reading; ``lifecycle`` is None when the iDRAC did not answer."""

    power_state: str | None = None
    last_reset_time: str | None = None
    boot_state: str | None = None  # BootProgress.LastState (ComputerSystem v1_13+)
    boot_state_time: str | None = None  # BootProgress.LastStateTime
    health: str | None = None
    lifecycle: LifecycleStatus | None = None
    jobs: list[JobInfo] = Field(default_factory=list)
    # Only the Lifecycle Controller was read: it said the host is in a transition, so
    # power, health and jobs were not asked for (see ``read_host_state(lc_first=True)``).
    lc_only: bool = False

    @property
    def out_of_post(self) -> bool:
        """ServerStatus OutOfPOST, or not reported (a generic BMC has no such status)."""
        status = self.lifecycle.server_status if self.lifecycle else None
        return status is None or status == "OutOfPOST"

    @property
    def lc_ready(self) -> bool:
        return self.lifecycle is not None and self.lifecycle.ready

    @property
    def waiting_for_reboot(self) -> list[JobInfo]:
        """Staged firmware jobs that only a host reboot will start."""
        return [
            job
            for job in self.jobs
            if job.status is JobStatus.SCHEDULED and not _is_reboot_job(job)
        ]

    def under_way(self) -> list[str]:
        """Why the host is in a transition (empty: it is settled): each reason in words."""
        if self.lifecycle is None:
            return ["iDRAC not answering"]
        reasons = []
        if self.power_state != "On" and not self.lc_only:
            reasons.append(f"power {self.power_state}")
        if not self.out_of_post:
            reasons.append(f"ServerStatus {self.lifecycle.server_status}")
        if not self.lifecycle.ready:
            reasons.append(f"LC {self.lifecycle.lc_status or self.lifecycle.status or 'NotReady'}")
        reasons += [
            job.describe()
            for job in self.jobs
            if job.status in _JOB_UNDER_WAY
            or (job.status is JobStatus.SCHEDULED and _is_reboot_job(job))
        ]
        return reasons

    @property
    def healthy(self) -> bool:
        return (
            self.power_state == "On"
            and self.health in HEALTHY
            and self.lc_ready
            and self.out_of_post
        )

    def describe(self) -> str:
        if self.lifecycle is None:
            return "iDRAC not answering"
        lc = "ready" if self.lifecycle.ready else self.lifecycle.lc_status or "NotReady"
        text = (
            f"LC {lc}"
            if self.lc_only
            else f"power {self.power_state}, health {self.health}, LC {lc}"
        )
        if not self.out_of_post:
            text += f", ServerStatus {self.lifecycle.server_status}"
        return text


def _is_reboot_job(job: JobInfo) -> bool:
    return job.job_id.startswith(_REBOOT_JOB_PREFIX)


async def read_host_state(
    client: RedfishClient, *, with_jobs: bool = True, lc_first: bool = False
) -> HostState:
    """Power, health, LC status and (WITH_JOBS) the job queue; an iDRAC that does not
    answer (resetting, busy) is a reading too: lifecycle None.

    LC_FIRST: the Lifecycle Controller's status is read first, and the system and the
    job queue only once it reports Ready and out of POST. A host in a transition (POST,
    LC busy) is then one request, not three: a reboot wait spends most of its polls
    there. Only for readers that need no more than "still in a transition" from such a
    reading (``lc_only`` is set)."""
    try:
        lifecycle = await client.lifecycle_status()
        if lc_first and not (lifecycle.ready and lifecycle.server_status in (None, "OutOfPOST")):
            return HostState(lifecycle=lifecycle, lc_only=True)
        system = await client.system()
        jobs = await client.list_jobs() if with_jobs else []
    except (RedfishConnectionError, BusyError):
        return HostState()
    return HostState(
        power_state=plain_text(system.get("PowerState")),
        last_reset_time=plain_text(system.get("LastResetTime")),
        boot_state=plain_text(dig(system, "BootProgress", "LastState")),
        boot_state_time=plain_text(dig(system, "BootProgress", "LastStateTime")),
        health=plain_text(dig(system, "Status", "HealthRollup") or dig(system, "Status", "Health")),
        lifecycle=lifecycle,
        jobs=jobs,
    )


async def settled_health(
    client: RedfishClient, timeout_s: float, confirmations: int = 2
) -> tuple[HostState, bool]:
    """The host once one settled answer (out of POST, LC ready) held for CONFIRMATIONS
    reads in a row, and True; at the deadline the last reading, and False. A single
    read proves nothing while the host moves: POST and a stale "Ready" both pass it."""
    deadline = time.monotonic() + timeout_s
    previous: HostState | None = None
    streak = 0
    while True:
        state = await read_host_state(client, with_jobs=False)
        same = previous is not None and state.describe() == previous.describe()
        streak = 0 if state.under_way() else streak + 1 if same else 1
        if streak >= confirmations:
            return state, True
        if time.monotonic() > deadline:
            return state, False
        previous = state
        await asyncio.sleep(client.options.poll_interval_s)
