"""Activities that only report who ran them: one copy is registered per task queue."""

from __future__ import annotations

import os
import socket

from temporalio import activity

from domain.selftest import QueueProbe


@activity.defn(name="probe_redfish_queue")
async def probe_redfish_queue() -> QueueProbe:
    info = activity.info()
    return QueueProbe(task_queue=info.task_queue, worker=_identity())


@activity.defn(name="probe_vcenter_queue")
def probe_vcenter_queue() -> QueueProbe:
    info = activity.info()
    return QueueProbe(task_queue=info.task_queue, worker=_identity())


def _identity() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"
