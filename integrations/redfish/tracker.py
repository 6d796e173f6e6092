"""Follow one update job to its end, whatever the iDRAC does meanwhile.

Polls the task at the Location header (200 or 202 while running). On 404 it tries the
Dell job and the DMTF JobService job, because iDRAC 7.00 purges finished tasks; a 404
right after creation is tolerated for a grace period (the BMC had not finished making
the job). While the iDRAC resets itself (its own update), connection errors and the
wiped session are expected: the job shows as idrac-offline until it answers again, up
to a limit, never forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from common.logging import get_logger
from integrations.redfish.errors import (
    BusyError,
    IdracOfflineError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RedfishConnectionError,
)
from integrations.redfish.jobs import job_info
from integrations.redfish.models import ClientOptions, JobInfo, JobRef, JobStatus
from integrations.redfish.pacing import PacedWait
from integrations.redfish.transport import V1, RedfishTransport, json_body

log = get_logger("integrations.redfish")
ProgressCallback = Callable[[JobInfo], None]


class JobTracker:
    def __init__(
        self, transport: RedfishTransport, dell_jobs_uri: str | None, options: ClientOptions
    ) -> None:
        self._transport = transport
        self._dell_jobs_uri = dell_jobs_uri
        self._options = options
        self._offline_since: float | None = None
        self._missing_since: float | None = None

    def _fallbacks(self, job_id: str) -> list[tuple[str, str]]:
        if self._dell_jobs_uri is None:
            return []
        return [
            (f"{self._dell_jobs_uri}/{job_id}", "dell-job"),
            (f"{V1}/JobService/Jobs/{job_id}", "jobservice"),
        ]

    async def poll(self, ref: JobRef) -> JobInfo | None:
        """One observation; None when no view of the job exists (yet, or any more)."""
        response = await self._transport.request("GET", ref.location, allow=(202, 404), retry=False)
        document = json_body(response)
        if response.status_code == 202 or (response.status_code != 404 and _is_job(document)):
            return job_info(ref.job_id, document, "task")
        if response.status_code != 404 or ref.task:
            # A DMTF task monitor that answers with the operation's own result (200/204)
            # or is gone: the task resource tells how it ended.
            return await self._task_after_monitor(ref, response.status_code)
        for uri, source in self._fallbacks(ref.job_id):
            response = await self._transport.request("GET", uri, allow=(404,), retry=False)
            if response.status_code != 404:
                return job_info(ref.job_id, json_body(response), source)
        return None

    async def _task_after_monitor(self, ref: JobRef, status: int) -> JobInfo | None:
        if ref.task:
            response = await self._transport.request("GET", ref.task, allow=(404,), retry=False)
            document = json_body(response)
            return job_info(ref.job_id, document, "task") if _is_job(document) else None
        if status == 404:
            return None
        return JobInfo(
            job_id=ref.job_id,
            status=JobStatus.COMPLETED,
            message=f"task monitor answered HTTP {status}: the operation ended",
        )

    async def wait(
        self,
        ref: JobRef,
        *,
        stop_at: frozenset[JobStatus] = frozenset(),
        on_progress: ProgressCallback | None = None,
    ) -> JobInfo:
        """Poll until terminal (or a status in STOP_AT); raise on failure, hang or loss."""
        started = time.monotonic()
        self._offline_since = self._missing_since = None
        last: JobInfo | None = None
        pace: PacedWait | None = None
        while True:
            info = await self._observe(ref, last)
            if pace is None:  # timed by how long this job's states lasted elsewhere
                until = ",".join(sorted(stop_at)) or "end"
                pace = PacedWait(
                    f"job {info.name or '?'} until {until}", self._options.poll_interval_s
                )
                pace.observe("submitted", started)
            pace.observe(info.status.value)
            if last is None or info.describe() != last.describe():
                log.info("redfish job", host=self._transport.host, job=info.describe())
                if on_progress:
                    on_progress(info)
            last = info
            if info.status is JobStatus.FAILED:
                pace.abandon()
                reason = " ".join(filter(None, [info.message_id or info.state, info.message]))
                raise JobFailedError(
                    f"job {ref.job_id} failed: {reason or 'the BMC gave no reason'}",
                    host=self._transport.host,
                    message_id=info.message_id,
                )
            if info.status.terminal or info.status in stop_at:
                pace.done()
                return info
            if time.monotonic() - started > self._options.job_timeout_s:
                pace.abandon()
                raise JobTimeoutError(
                    f"job {ref.job_id} still {info.state or info.status.value} "
                    f"({info.percent or 0}%) after {self._options.job_timeout_s:g} s: "
                    "it looks hung; check the iDRAC job queue",
                    host=self._transport.host,
                    message_id=info.message_id,
                )
            await asyncio.sleep(pace.sleep_s())

    async def _observe(self, ref: JobRef, last: JobInfo | None) -> JobInfo:
        """One poll turned into a status, tolerating the iDRAC's transient gaps."""
        now = time.monotonic()
        host = self._transport.host
        try:
            info = await self.poll(ref)
        except BusyError:
            # A busy answer says nothing new about the job; the job timeout bounds this.
            return last or JobInfo(job_id=ref.job_id, status=JobStatus.QUEUED, message="busy")
        except RedfishConnectionError:
            self._offline_since = self._offline_since or now
            if now - self._offline_since > self._options.idrac_offline_timeout_s:
                raise IdracOfflineError(
                    f"iDRAC unreachable for over {self._options.idrac_offline_timeout_s:g} s "
                    f"while following job {ref.job_id}",
                    host=host,
                ) from None
            return JobInfo(
                job_id=ref.job_id,
                status=JobStatus.IDRAC_OFFLINE,
                message="iDRAC not answering (resetting?)",
            )
        self._offline_since = None
        if info is not None:
            self._missing_since = None
            return info
        self._missing_since = self._missing_since or now
        if now - self._missing_since > self._options.task_404_grace_s:
            raise NotFoundError(
                f"job {ref.job_id} not found in TaskService, Dell Jobs or JobService",
                host=host,
                status=404,
            )
        return JobInfo(job_id=ref.job_id, status=JobStatus.QUEUED, message="not visible yet")


def _is_job(document: dict[str, object]) -> bool:
    """A task or job document, as opposed to an operation's result or an empty body."""
    return any(key in document for key in ("TaskState", "JobState"))
