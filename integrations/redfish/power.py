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
from typing import TYPE_CHECKING

from common.logging import get_logger
from integrations.redfish.errors import (
    HostNotBackError,
    LifecycleNotReadyError,
    RedfishConnectionError,
)
from integrations.redfish.host_state import HostState, read_host_state
from integrations.redfish.models import LifecycleStatus

if TYPE_CHECKING:
    from integrations.redfish.client import RedfishClient

log = get_logger("integrations.redfish")


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

    async def _went_down(self, before: HostState, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while True:
            if gone_down(before, await read_host_state(self._client)):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(self._options.poll_interval_s)

    async def reboot(self, reset_type: str = "GracefulRestart") -> bool:
        """Restart the host and wait until it is back; True if it had to be forced."""
        before = await read_host_state(self._client)
        if before.power_state == "Off":
            await self._client.reset("On")
            await self.wait_host_back()
            return False
        await self._client.reset(reset_type)
        forced = False
        if not await self._went_down(before, self._options.reboot_grace_s):
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
            if not await self._went_down(before, self._options.reboot_grace_s):
                raise HostNotBackError(
                    "host did not go down even after ForceRestart", host=self._client.host
                )
        resting = before.boot_state if not before.under_way() else None
        await self.wait_host_back(boot_state=resting if resting != "None" else None)
        return forced

    async def wait_host_back(
        self, timeout_s: float | None = None, boot_state: str | None = None
    ) -> HostState:
        """Settled again: powered on, out of POST, LC ready and no job or reboot running
        (and BootProgress back at BOOT_STATE, if given), within TIMEOUT_S (default
        host_back_timeout_s). A host seen in a transition must then read settled
        ``ready_confirmations`` times in a row (stale "Ready")."""
        timeout_s = timeout_s or self._options.host_back_timeout_s
        deadline = time.monotonic() + timeout_s
        seen_transition = False
        streak = 0
        while True:
            state = await read_host_state(self._client)
            busy = state.under_way()
            if boot_state and state.lifecycle and state.boot_state != boot_state:
                busy.append(f"BootProgress {state.boot_state}")
            seen_transition = seen_transition or bool(busy)
            streak = 0 if busy else streak + 1
            if streak >= (self._options.ready_confirmations if seen_transition else 1):
                return state
            if time.monotonic() > deadline:
                why = "; ".join(busy) or "settled only just now"
                raise HostNotBackError(
                    f"host not back and settled within {timeout_s:g} s: {why} ({state.describe()})",
                    host=self._client.host,
                )
            await asyncio.sleep(self._options.poll_interval_s)


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
    still_staged = {job.job_id for job in now.waiting_for_reboot}
    return (
        now.power_state == "Off"
        or (now.last_reset_time is not None and now.last_reset_time != before.last_reset_time)
        or (before.boot_state == "OSRunning" and now.boot_state not in (None, "OSRunning"))
        or (now.boot_state_time is not None and now.boot_state_time != before.boot_state_time)
        or (before.out_of_post and not now.out_of_post)
        or (before.lc_ready and not now.lc_ready)
        or bool(staged - still_staged)
    )
