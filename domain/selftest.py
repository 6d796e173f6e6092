"""I/O of the worker self-test: which worker answered on which task queue."""

from __future__ import annotations

from pydantic import BaseModel


class QueueProbe(BaseModel):
    task_queue: str
    worker: str


class SelfTestResult(BaseModel):
    probes: list[QueueProbe]
