"""Reboots and readiness: the waits where iDRAC automation usually goes wrong.

- Stale "Ready": right after a reset the Lifecycle Controller still answers Ready
  (OMAM sleeps before polling). When a transition is expected we first wait, for at
  most ``lc_settle_s``, to see it leave Ready; after any transition we require
  ``ready_confirmations`` consecutive Ready answers (Ironic needed three in a row).
- GracefulRestart may be ignored by the OS: after ``reboot_grace_s`` without the host
  going down we send ForceRestart.
- "Went down" is proven by PowerState Off, the LC or ServerStatus leaving Ready /
  OutOfPOST, a staged job starting, BootProgress leaving OSRunning or stamping a new
  LastStateTime, or a new LastResetTime where the BMC has one (the iDRAC9 4.x/5.x
  captures have neither); not by a fixed sleep, nor by Off alone (a warm restart may
  never show it).
- "Back" means settled: power On, out of POST, LC ready and no job or reboot job running;
  where the BMC reports BootProgress, also back at the state it rested in before the
  reset (a generic BMC has no LC or ServerStatus: power On and Enabled hold throughout
  a warm restart).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from common.logging import get_logger
from integrations.redfish.errors import (
    HostNotBackError,
    LifecycleNotReadyError,
    RedfishConnectionError,
)
from integrations.redfish.host_state import HostState, read_host_state
from integrations.redfish.models import JobStatus, LifecycleStatus
from integrations.redfish.pacing import PacedWait

if TYPE_CHECKING:
    from integrations.redfish.client import RedfishClient

log = get_logger("integrations.redfish")
_FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})


class PowerControl:
    def __init__(self, client: RedfishClient) -> None:
        self._client = client
        self._options = client.options

    async def _status(self) -> LifecycleStatus | None:
        try:
            return await self._client.lifecycle_status()
        except RedfishConnectionError:
            return None

    async def wait_until_ready(self, expect_transition: bool = False) -> LifecycleStatus:
        """Wait for LC Ready (generic: system On and Enabled), proof against stale Ready."""
        poll = self._options.poll_interval_s
        if expect_transition:
            settle_until = time.monotonic() + self._options.lc_settle_s
            while time.monotonic() < settle_until:
                status = await self._status()
                if status is None or not status.ready:
                    break
                await asyncio.sleep(poll)
        deadline = time.monotonic() + self._options.lc_ready_timeout_s
        streak = 0
        in_transition = expect_transition
        while True:
            status = await self._status()
            ready = status is not None and status.ready
            in_transition = in_transition or not ready
            streak = streak + 1 if ready else 0
            # A steady Ready needs no proof; one that follows a transition must hold.
            needed = self._options.ready_confirmations if in_transition else 1
            if status is not None and streak >= needed:
                return status
            if time.monotonic() > deadline:
                raise LifecycleNotReadyError(
                    f"Lifecycle Controller not ready after {self._options.lc_ready_timeout_s:g} s"
                    f" ({_answered(status)})",
                    host=self._client.host,
                )
            await asyncio.sleep(poll)

    async def _went_down(self, before: HostState, within_s: float, pace: PacedWait) -> bool:
        deadline = time.monotonic() + within_s
        # From a settled host, the LC leaving Ready or out of POST is proof enough: the
        # system and job queue are read only while it still says Ready.
        lc_first = before.lc_ready and before.out_of_post
        while True:
            now = await read_host_state(self._client, lc_first=lc_first)
            if gone_down(before, now):
                pace.observe(phase_of(now))
                return True
            pace.observe("going-down")
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(pace.sleep_s())

    async def reboot(
        self, reset_type: str = "GracefulRestart", before: HostState | None = None
    ) -> bool:
        """Restart the host and wait until it is back; True if it had to be forced.
        BEFORE: a full reading the caller just took (saves reading it again)."""
        if before is None or before.lc_only:
            before = await read_host_state(self._client)
        if before.power_state == "Off":
            await self._client.reset("On")
            await self.wait_host_back()
            return False
        staged = before.waiting_for_reboot
        # Polls timed by how long this kind of reboot took on the hosts seen before.
        pace = PacedWait(
            f"reboot {reset_type}: " + ", ".join(sorted(job.name or "?" for job in staged)),
            self._options.poll_interval_s,
        )
        await self._client.reset(reset_type)
        pace.observe("reset")
        forced = False
        if not await self._went_down(before, self._options.reboot_grace_s, pace):
            pace.abandon()
            if reset_type != "GracefulRestart":
                raise HostNotBackError(
                    f"host did not go down within {self._options.reboot_grace_s:g} s of "
                    f"{reset_type}",
                    host=self._client.host,
                )
            log.warning(
                "graceful restart ignored, forcing",
                host=self._client.host,
                grace_s=self._options.reboot_grace_s,
            )
            forced = True
            await self._client.reset("ForceRestart")
            pace = PacedWait("reboot forced", self._options.poll_interval_s)
            pace.observe("reset")
            if not await self._went_down(before, self._options.reboot_grace_s, pace):
                raise HostNotBackError(
                    "host did not go down even after ForceRestart", host=self._client.host
                )
        resting = before.boot_state if not before.under_way() else None
        await self.wait_host_back(
            boot_state=resting if resting != "None" else None,
            applying=[job.job_id for job in staged],
            pace=pace,
        )
        return forced

    async def wait_host_back(
        self,
        timeout_s: float | None = None,
        boot_state: str | None = None,
        applying: Collection[str] = (),
        pace: PacedWait | None = None,
    ) -> HostState:
        """Settled again: powered on, out of POST, LC ready and no job or reboot running
        (and BootProgress back at BOOT_STATE, if given), within TIMEOUT_S (default
        host_back_timeout_s). A host seen in a transition must then read settled
        ``ready_confirmations`` times in a row (stale "Ready"), unless the iDRAC gave
        the positive signal instead: after the reset it was seen in POST, then out of
        POST with the LC still busy, and now the LC is Ready with every job of APPLYING
        (the staged jobs the reboot was for) finished. A stale Ready is an answer from
        before the reset took effect; this one follows the LC's own wrap-up after the
        POST that applied the jobs.

        Polls read the LC status first and the system and job queue only once it is
        Ready and out of POST (``read_host_state(lc_first=True)``), timed by PACE (how
        long the phases of this kind of reboot took on other hosts, see ``pacing``)."""
        timeout_s = timeout_s or self._options.host_back_timeout_s
        deadline = time.monotonic() + timeout_s
        seen_transition = False
        signal = ResetSequence(applying)
        pace = pace or PacedWait("host back", self._options.poll_interval_s)
        streak = 0
        while True:
            state = await read_host_state(self._client, lc_first=True)
            busy = state.under_way()
            if boot_state and state.lifecycle and state.boot_state != boot_state:
                busy.append(f"BootProgress {state.boot_state}")
            pace.observe(phase_of(state, busy))
            seen_transition = seen_transition or bool(busy)
            streak = 0 if busy else streak + 1
            proven = signal.observe(state, settled=not busy)
            if proven or streak >= (self._options.ready_confirmations if seen_transition else 1):
                pace.done()
                return state
            if time.monotonic() > deadline:
                pace.abandon()
                why = "; ".join(busy) or "settled only just now"
                raise HostNotBackError(
                    f"host not back and settled within {timeout_s:g} s: {why} ({state.describe()})",
                    host=self._client.host,
                )
            await asyncio.sleep(pace.sleep_s())


def phase_of(state: HostState, busy: list[str] | None = None) -> str:
    """Which phase of a reboot a reading shows, for timing the next poll."""
    lifecycle = state.lifecycle
    if lifecycle is None:
        return "silent"
    if lifecycle.server_status not in (None, "OutOfPOST"):
        return "post"
    if not lifecycle.ready:
        return "lc-busy"
    busy = state.under_way() if busy is None else busy
    return "busy" if busy else "settled"


class ResetSequence:
    """The iDRAC's own proof that a host is back from a firmware reboot, as an
    alternative to several settled answers in a row: POST seen (or the iDRAC silent),
    then ServerStatus OutOfPOST with the LC not yet Ready (its wrap-up after POST),
    then a settled reading in which every staged job the reboot was for has finished.
    Without a ServerStatus (a generic BMC) or without jobs to watch it never proves
    anything, and the confirmations decide."""

    def __init__(self, applying: Collection[str]) -> None:
        self.applying = frozenset(applying)
        self.saw_post = False
        self.saw_lc_wrap_up = False

    def observe(self, state: HostState, *, settled: bool) -> bool:
        lifecycle = state.lifecycle
        if lifecycle is None or lifecycle.server_status not in (None, "OutOfPOST"):
            self.saw_post = True
        elif self.saw_post and not lifecycle.ready and lifecycle.server_status == "OutOfPOST":
            self.saw_lc_wrap_up = True
        if not (settled and self.saw_lc_wrap_up and self.applying):
            return False
        # Completed-needs-reboot is not finished: it waits for another restart.
        finished = {job.job_id for job in state.jobs if job.status in _FINISHED}
        return self.applying <= finished


def _answered(status: LifecycleStatus | None) -> str:
    """What the BMC last said about its readiness, naming only what it reported."""
    if status is None:
        return "BMC not answering"
    said = [("LCStatus", status.lc_status), ("ServerStatus", status.server_status),
            ("Status", status.status)]  # fmt: skip
    return " ".join(f"{name}={value}" for name, value in said if value) or "no status reported"


def gone_down(before: HostState, now: HostState) -> bool:
    """Proof the reset took: power Off, a new LastResetTime or BootProgress (where the
    BMC has them), the LC or POST leaving the settled state, or a staged job starting.
    A silent iDRAC proves nothing about the host. BootProgress counts only as a change:
    some BMCs never report OSRunning (bmclib's Supermicro X13 capture stays at
    SystemHardwareInitializationComplete with the OS up)."""
    if now.lifecycle is None:
        return False
    staged = {job.job_id for job in before.waiting_for_reboot}
    # An LC-only reading did not read the queue: it proves nothing about the jobs.
    still_staged = staged if now.lc_only else {job.job_id for job in now.waiting_for_reboot}
    return (
        now.power_state == "Off"
        or (now.last_reset_time is not None and now.last_reset_time != before.last_reset_time)
        or (before.boot_state == "OSRunning" and now.boot_state not in (None, "OSRunning"))
        or (now.boot_state_time is not None and now.boot_state_time != before.boot_state_time)
        or (before.out_of_post and not now.out_of_post)
        or (before.lc_ready and not now.lc_ready)
        or bool(staged - still_staged)
    )
