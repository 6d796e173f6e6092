"""What each task queue's worker runs. New workflows and activities are added here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from activities.selftest import probe_redfish_queue, probe_vcenter_queue
from domain.temporal_names import TaskQueue
from workflows.selftest import SelfTestWorkflow

WORKFLOWS: Sequence[type] = (SelfTestWorkflow,)
ASYNC_ACTIVITIES: dict[TaskQueue, Sequence[Callable[..., Any]]] = {
    TaskQueue.REDFISH: (probe_redfish_queue,),
}
THREADED_ACTIVITIES: dict[TaskQueue, Sequence[Callable[..., Any]]] = {
    TaskQueue.VCENTER: (probe_vcenter_queue,),
}
