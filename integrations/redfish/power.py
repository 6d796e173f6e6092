"""Reboots and readiness: the waits where iDRAC automation usually goes wrong.

- Stale "Ready": right after a reset the Lifecycle Controller still answers Ready
  (OMAM sleeps before polling). When a transition is expected we first wait, for at
  most ``lc_settle_s``, to see it leave Ready; after any transition we require
  ``ready_confirmations`` consecutive Ready answers (Ironic needed three in a row).
- GracefulRestart may be ignored by the OS: after ``reboot_grace_s`` without the host
  going down we send ForceRestart.
- "Went down" is proven by PowerState Off or a new LastResetTime, not by a fixed sleep.
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
                seen = (
                    f"LCStatus={status.lc_status} ServerStatus={status.server_status}"
                    if status
                    else "iDRAC unreachable"
                )
                raise LifecycleNotReadyError(
                    f"Lifecycle Controller not ready after {self._options.lc_ready_timeout_s:g} s"
                    f" ({seen})",
                    host=self._client.host,
                )
            await asyncio.sleep(poll)

    async def _power_marks(self) -> tuple[str | None, str | None]:
        system = await self._client.system()
        return system.get("PowerState"), system.get("LastResetTime")

    async def _went_down(self, last_reset: str | None, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while True:
            try:
                power, reset_time = await self._power_marks()
            except RedfishConnectionError:
                power, reset_time = None, last_reset
            if power == "Off" or (reset_time is not None and reset_time != last_reset):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(self._options.poll_interval_s)

    async def reboot(self, reset_type: str = "GracefulRestart") -> bool:
        """Restart the host and wait until it is back; True if it had to be forced."""
        power, last_reset = await self._power_marks()
        if power == "Off":
            await self._client.reset("On")
            await self.wait_host_back()
            return False
        await self._client.reset(reset_type)
        forced = False
        if not await self._went_down(last_reset, self._options.reboot_grace_s):
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
            if not await self._went_down(last_reset, self._options.reboot_grace_s):
                raise HostNotBackError(
                    "host did not go down even after ForceRestart", host=self._client.host
                )
        await self.wait_host_back()
        return forced

    async def wait_host_back(self) -> None:
        """Powered on, out of POST and the LC ready, within host_back_timeout_s."""
        deadline = time.monotonic() + self._options.host_back_timeout_s
        while True:
            try:
                power, _ = await self._power_marks()
            except RedfishConnectionError:
                power = None
            if power == "On":
                break
            if time.monotonic() > deadline:
                raise HostNotBackError(
                    f"host not powered on {self._options.host_back_timeout_s:g} s after reset",
                    host=self._client.host,
                )
            await asyncio.sleep(self._options.poll_interval_s)
        await self.wait_until_ready()
