"""The read-only preflight of one host: the iDRAC and vCenter, asked at once.

The cluster rollout runs it while the host waits in its queue (a host found compliant or
blocked never takes a slot); the runbook runs it itself only when it was not handed one.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.names import Redfish, Vcenter
    from domain.runbook import (
        HostJob,
        IdracPreflight,
        MaintenanceRequest,
        StageRequest,
        VcenterPreflight,
    )
    from domain.temporal_names import TaskQueue

from workflows.calls import run_activity

MAINTENANCE_TIMEOUT = timedelta(minutes=30)
PREFLIGHT_TIMEOUT = timedelta(minutes=5)


async def read_host(job: HostJob) -> tuple[IdracPreflight, VcenterPreflight]:
    """Raises ActivityError when either side cannot be read (wrong login, unreachable)."""
    heartbeat = timedelta(seconds=job.heartbeat_timeout_s)
    idrac, vcenter = await asyncio.gather(
        run_activity(
            TaskQueue.REDFISH,
            Redfish.PREFLIGHT,
            StageRequest(host=job.host, targets=job.targets),
            IdracPreflight,
            PREFLIGHT_TIMEOUT,
            heartbeat,
        ),
        run_activity(
            TaskQueue.VCENTER,
            Vcenter.PREFLIGHT,
            MaintenanceRequest.for_job(job, MAINTENANCE_TIMEOUT),
            VcenterPreflight,
            PREFLIGHT_TIMEOUT,
            heartbeat,
        ),
    )
    return idrac, vcenter
