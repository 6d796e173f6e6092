"""One simulated iDRAC9 and its server: power, Lifecycle Controller, sessions, jobs.

Durations are in iDRAC seconds (what a real PowerEdge takes) and are multiplied by the
simulator's time scale. The state machine follows reference §11: download, then apply
at once (NONE), reset the iDRAC itself (IDRAC), wait for a host reboot (HOST), or apply
and ask for a power cycle (POWERCYCLE).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from simulators.fleet import HostFaults, HostSpec, IdracLicenseLevel
from simulators.idrac.components import COMPONENTS, Component, RebootType
from simulators.idrac.dup import ImageInfo, ImageNotUnderstood, identify_image
from simulators.idrac.jobs import REBOOT_PENDING_MESSAGE, SimJob, new_job_id
from simulators.idrac.logs import HostLogs
from simulators.idrac.personality import PERSONALITIES, Personality

log = logging.getLogger("simulators.idrac")


@dataclass(frozen=True)
class Timings:
    """Real-hardware durations in seconds (scaled by the time scale)."""

    download: float = 30.0
    apply: float = 60.0
    idrac_reset: float = 180.0
    lc_after_idrac_reset: float = 60.0
    graceful_shutdown: float = 30.0
    power_off: float = 10.0
    post: float = 120.0
    apply_on_reboot: float = 90.0
    lc_after_post: float = 30.0
    stale_ready: float = 10.0  # LCStatus still says Ready after a reset (reference §7)
    lc_restart: float = 60.0  # JID_CLEARALL_FORCE restarts LC services


@dataclass
class Quirks:
    """Where one BMC departs from its firmware line (set at run time by tests): how it
    shows a reset, and what a generic Redfish BMC leaves out or insists on."""

    # DMTF ResetType GracefulRestart / ForceRestart only promise PowerState On "after
    # transiting through a restart" (Resource schema); a warm reset keeps the PowerEdge
    # powered, so PowerState may read On at every poll while the host reboots and POSTs.
    warm_restart: bool = False
    # LastResetTime is missing from the iDRAC9 3.34 (sushy-oem-idrac system.json) and
    # 5.10 (akaliwod/iserver UriSystems.md, R650) ComputerSystem captures (reference §2).
    last_reset_time: bool = True
    # BootProgress on the system (generic BMCs only: the Supermicro X13 capture in bmclib
    # has it, no iDRAC capture does).
    boot_progress: bool = True
    # No SessionService (no session login; HTTP Basic only), as DSP0266 permits.
    sessions: bool = True
    # HTTP Basic refused with a 401 that offers no Basic challenge (bmcweb with Basic off).
    basic_auth: bool = True
    # SimpleUpdate links an ActionInfo that marks Targets Required, and refuses a body
    # without them (DMTF SimpleUpdateActionInfo; OpenBMC-style services).
    simple_update_targets: bool = False
    # The UpdateService links a FirmwareInventory (False: no firmware versions at all).
    firmware_inventory: bool = True
    # An update's 202 names a DMTF task monitor (Location) and carries the task (body);
    # the monitor answers 202 + the task while it runs, 204 once it ended (DSP0266
    # "Asynchronous operations"; bmcweb's /redfish/v1/TaskService/TaskMonitors/<id>).
    task_monitor: bool = False


class HostServices(Protocol):
    """What a host needs from the simulator around it."""

    def scaled(self, seconds: float) -> float: ...
    async def set_online(self, host: SimHost, online: bool) -> None: ...
    async def notify_vcenter(self, host: SimHost, state: str) -> None: ...
    async def fetch_image(self, uri: str) -> tuple[str, bytes]: ...


class FetchError(Exception):
    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


SESSION_TIMEOUT_S = 1800.0  # what SessionService answers; idle sessions close after it


@dataclass
class Session:
    id: str
    token: str
    username: str
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class SimHost:
    spec: HostSpec
    address: str
    services: HostServices
    timings: Timings = field(default_factory=Timings)
    faults: HostFaults = field(init=False)
    quirks: Quirks = field(default_factory=Quirks)
    firmware: dict[str, str] = field(init=False)
    previous: dict[str, str] = field(default_factory=dict)
    power_on: bool = True
    server_status: str = "OutOfPOST"
    server_status_since: str = field(default_factory=lambda: _iso_now())
    lc_ready: bool = True
    lc_stale_until: float = 0.0
    idrac_online: bool = True
    last_reset_time: str = field(default_factory=lambda: _iso_now())
    health: str = "OK"
    license: IdracLicenseLevel = field(init=False)
    sessions: dict[str, Session] = field(default_factory=dict)
    jobs: dict[str, SimJob] = field(default_factory=dict)
    update_jobs: int = 0
    requests: int = 0
    requests_by_resource: Counter[str] = field(default_factory=Counter)
    flashes: dict[str, int] = field(default_factory=dict)
    pending_power_cycle: dict[str, str] = field(default_factory=dict)
    busy_left: int = 0
    submit_busy_left: int = 0
    max_sessions: int = 8
    staged: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # Available- packages
    logs: HostLogs = field(default_factory=HostLogs)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _start_update: asyncio.Event = field(default_factory=asyncio.Event)
    _rebooting: bool = False
    _session_serial: int = 0
    _job_serial: int = 0

    def __post_init__(self) -> None:
        self.set_faults(self.spec.faults.model_copy())
        self.license = self.spec.idrac_license
        defaults = {key: c.default_version for key, c in COMPONENTS.items()}
        defaults["idrac"] = self.personality.idrac_version
        self.firmware = {key: self.spec.firmware.get(key, v) for key, v in defaults.items()}

    # -- identity -------------------------------------------------------------------
    @property
    def tag(self) -> str:
        return self.spec.service_tag

    @property
    def generic(self) -> bool:
        return self.spec.generic

    @property
    def personality(self) -> Personality:
        return PERSONALITIES[self.spec.personality]

    def set_faults(self, faults: HostFaults) -> None:
        self.faults = faults
        if not faults.critical_after_boot:
            self.health = "OK"
        self.busy_left = faults.busy_503
        self.submit_busy_left = faults.submit_busy

    # -- sessions -------------------------------------------------------------------
    def credentials_ok(self, username: str, password: str) -> bool:
        if self.faults.wrong_credentials:
            return False
        user_ok = secrets.compare_digest(username.encode(), self.spec.idrac_username.encode())
        password_ok = secrets.compare_digest(password.encode(), self.spec.idrac_password.encode())
        return user_ok and password_ok

    def open_session(self, username: str) -> Session:
        self._session_serial += 1
        session = Session(str(self._session_serial), secrets.token_hex(16), username)
        self.sessions[session.id] = session
        return session

    def session_for(self, token: str) -> Session | None:
        self.expire_idle_sessions()
        session = next(
            (s for s in self.sessions.values() if secrets.compare_digest(s.token, token)), None
        )
        if session is not None:
            session.last_used = time.monotonic()
        return session

    def expire_idle_sessions(self) -> None:
        """A session left unused for SessionTimeout (1800 s, iDRAC time) is closed, as real
        iDRACs do: a client that died without logging out frees its slot (Dell iDRAC9 User's
        Guide, "Configuring web server": session timeout 60-10800 s, default 1800)."""
        horizon = time.monotonic() - self.services.scaled(SESSION_TIMEOUT_S)
        for session_id in [i for i, s in self.sessions.items() if s.last_used < horizon]:
            del self.sessions[session_id]

    # -- readiness ------------------------------------------------------------------
    @property
    def lc_reports_ready(self) -> bool:
        """What GetRemoteServicesAPIStatus says: stale "Ready" right after a reset."""
        if self.faults.lc_stuck_not_ready:
            return False
        return self.lc_ready or time.monotonic() < self.lc_stale_until

    def _mark_stale(self) -> None:
        if self.lc_ready:
            self.lc_stale_until = time.monotonic() + self.services.scaled(self.timings.stale_ready)

    # -- jobs -----------------------------------------------------------------------
    def start_update(
        self,
        *,
        apply_time: str,
        image_uri: str | None = None,
        upload: tuple[str, bytes] | None = None,
    ) -> SimJob:
        """Create the job for SimpleUpdate / multipart push and run it in the background."""
        job = self._new_update_job("Firmware Update")
        self._spawn(self._run_update(job, apply_time, image_uri, upload))
        return job

    def start_staged_updates(self) -> None:
        """UpdateService.StartUpdate: jobs submitted OnStartUpdateRequest run now (§4.4)."""
        event, self._start_update = self._start_update, asyncio.Event()
        event.set()

    def start_rollback(self, component: Component, apply_time: str) -> SimJob:
        job = self._new_update_job(f"Firmware Rollback: {component.name}")
        info = ImageInfo(component, self.previous[component.key])
        self._spawn(self._run_update(job, apply_time, None, None, rollback=info))
        return job

    def _new_update_job(self, name: str) -> SimJob:
        """Dell JIDs on an iDRAC, plain serial numbers on a generic BMC."""
        self._job_serial += 1
        job_id = str(self._job_serial) if self.generic else new_job_id()
        job = SimJob(
            id=job_id, name=name, job_type="FirmwareUpdate", on_finish=self.logs.job_finished
        )
        self.jobs[job.id] = job
        self.update_jobs += 1
        return job

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.services.scaled(seconds))

    async def _while_held(self) -> None:
        while self.faults.job_held:  # noqa: ASYNC110 - a fault set from outside, polled
            await asyncio.sleep(0.02)

    async def _run_update(
        self,
        job: SimJob,
        apply_time: str,
        image_uri: str | None,
        upload: tuple[str, bytes] | None,
        rollback: ImageInfo | None = None,
    ) -> None:
        if apply_time == "OnStartUpdateRequest":
            job.set("Scheduled", "Task successfully scheduled.", "JCP001")
            await self._start_update.wait()
            apply_time = "Immediate"
        while not self.lc_reports_ready:
            job.set(
                "New",
                "Lifecycle Controller in use. This job will start when Lifecycle "
                "Controller is available.",
                "JCP041",
            )
            await self._sleep(5)
        info = rollback or await self._download(job, image_uri, upload)
        if info is None:
            return
        component = info.component
        job.component, job.target_version = component.key, info.version
        job.name = (
            f"Firmware Rollback: {component.name}"
            if rollback
            else f"Firmware Update: {component.name}"
        )
        job.set("Downloaded", "Package successfully downloaded.", "RED002", 0)
        if self.faults.job_fails:
            await self._sleep(1)
            job.fail(self.faults.job_fails)
            return
        if component.reboot is RebootType.HOST:
            job.set("Scheduled", "Task successfully scheduled.", "JCP001", 0)
            if apply_time == "Immediate":
                self._spawn(self.reboot("ForceRestart", created_by_update=True))
            return
        job.set("Running", f"Installing {component.name}.", "RED003", 30)
        if self.faults.job_hangs:
            return
        await self._sleep(self.timings.apply)
        await self._while_held()
        if component.reboot is RebootType.IDRAC:
            await self.reset_idrac(before_back=lambda: self._apply(job))
            job.complete()
        elif component.reboot is RebootType.POWERCYCLE:
            self.pending_power_cycle[component.key] = info.version
            job.needs_power_cycle = True
            job.complete(REBOOT_PENDING_MESSAGE, "RED095")
        else:
            self._apply(job)
            job.complete()

    async def _download(
        self, job: SimJob, image_uri: str | None, upload: tuple[str, bytes] | None
    ) -> ImageInfo | None:
        if upload is not None:
            name, content = upload
        else:
            assert image_uri is not None
            name = image_uri.rsplit("/", 1)[-1]
            job.set("Downloading", f"Downloading the {name} update package.", "RED005", 0)
            await self._sleep(self.timings.download)
            if self.faults.download_fails:
                job.fail("SYS261")
                return None
            try:
                name, content = await self.services.fetch_image(image_uri)
            except FetchError as exc:
                job.fail(exc.message_id)
                return None
        try:
            info = identify_image(name, content)
        except ImageNotUnderstood:
            job.fail("RED007")
            return None
        if info.component.key not in self.firmware:
            job.fail("SUP0518")
            return None
        return info

    def _apply(self, job: SimJob) -> None:
        """The flash itself: the new version goes in, the old one becomes Previous-."""
        key, version = job.component, job.target_version
        assert key is not None and version is not None
        self.flashes[key] = self.flashes.get(key, 0) + 1
        if self.faults.version_unchanged:
            return
        if version != self.firmware[key]:
            self.previous[key] = self.firmware[key]
            self.firmware[key] = version

    def clear_jobs(self, job_id: str) -> bool:
        """DeleteJobQueue: a JID, JID_CLEARALL (not running ones) or JID_CLEARALL_FORCE."""
        if job_id in ("JID_CLEARALL", "JID_CLEARALL_FORCE"):
            force = job_id == "JID_CLEARALL_FORCE"
            for jid, job in list(self.jobs.items()):
                if force or job.state != "Running":
                    del self.jobs[jid]
            if force:
                self._spawn(self._restart_lc())
            return True
        return self.jobs.pop(job_id, None) is not None

    async def _restart_lc(self) -> None:
        self._mark_stale()
        self.lc_ready = False
        await self._sleep(self.timings.lc_restart)
        self.lc_ready = True

    # -- iDRAC reset ----------------------------------------------------------------
    async def reset_idrac(
        self, before_back: Callable[[], None] | None = None, extra: float = 0.0
    ) -> None:
        """The iDRAC reboots: offline, all sessions gone, LC busy for a while after."""
        self._mark_stale()
        self.sessions.clear()
        self.logs.idrac_reset("firmware update" if before_back else "user initiated")
        self.idrac_online = False
        await self.services.set_online(self, False)
        await self._sleep(self.timings.idrac_reset + self.faults.unreachable_s + extra)
        if before_back:
            before_back()
        self.lc_ready = False
        self.idrac_online = True
        await self.services.set_online(self, True)
        self._spawn(self._lc_ready_after(self.timings.lc_after_idrac_reset))

    async def _lc_ready_after(self, seconds: float) -> None:
        await self._sleep(seconds)
        self.lc_ready = True

    def go_offline(self, seconds: float) -> None:
        """Control endpoint: the iDRAC stops answering for SECONDS (iDRAC seconds)."""
        self._spawn(self.reset_idrac(extra=seconds - self.timings.idrac_reset))

    # -- host power -----------------------------------------------------------------
    def request_reset(self, reset_type: str) -> None:
        """ComputerSystem.Reset: accepted at once (204), carried out in the background."""
        if reset_type in ("GracefulShutdown", "ForceOff"):
            self._spawn(self._power_off(graceful=reset_type == "GracefulShutdown"))
        elif reset_type in ("On", "PushPowerButton") and not self.power_on:
            self._spawn(self._boot(reset_type))
        elif reset_type == "GracefulRestart" and self.faults.graceful_ignored:
            log.info("%s: OS ignored GracefulRestart", self.tag)
        elif reset_type in ("GracefulRestart", "ForceRestart", "PowerCycle"):
            self._spawn(self.reboot(reset_type))

    async def _power_off(self, graceful: bool) -> None:
        if not self.power_on:
            return
        self._mark_stale()
        if graceful:
            await self._sleep(self.timings.graceful_shutdown)
        await self._down()

    async def _down(self, warm: bool = False) -> None:
        """The OS is gone: powered off, or (WARM) reset with the power left on."""
        self.power_on = warm
        self._set_server_status("InPOST" if warm else "PoweredOff")
        self.lc_ready = False
        self.last_reset_time = _iso_now()
        self.logs.powered_off()
        await self.services.notify_vcenter(self, "notResponding")

    async def reboot(self, reset_type: str, created_by_update: bool = False) -> None:
        if self._rebooting:
            return
        self._rebooting = True
        try:
            scheduled = [j for j in self.jobs.values() if j.state == "Scheduled"]
            reboot_job = None
            if scheduled and not self.generic:
                forced = reset_type != "GracefulRestart" or created_by_update
                reboot_job = SimJob(
                    id=new_job_id("RID"),
                    name="Reboot",
                    job_type="RebootForce" if forced else "RebootNoForce",
                )
                reboot_job.set("RebootPending", "Reboot is pending.", "RED029", 0)
                self.jobs[reboot_job.id] = reboot_job
            self._mark_stale()
            if self.power_on:
                if reset_type == "GracefulRestart":
                    await self._sleep(self.timings.graceful_shutdown)
                await self._down(warm=self.quirks.warm_restart and reset_type != "PowerCycle")
            await self._sleep(self.timings.power_off)
            if reboot_job:
                reboot_job.set("RebootCompleted", "Reboot is complete.", "RED030", 100)
                reboot_job.finished = time.monotonic()
            await self._boot(reset_type)
        finally:
            self._rebooting = False

    async def _boot(self, reset_type: str) -> None:
        self.power_on = True
        self.logs.powered_on()
        self._set_server_status("InPOST")
        self.lc_ready = False
        if reset_type == "PowerCycle":
            for key, version in self.pending_power_cycle.items():
                self.previous[key] = self.firmware[key]
                self.firmware[key] = version
            self.pending_power_cycle.clear()
        for job in [j for j in self.jobs.values() if j.state == "Scheduled"]:
            job.set("Running", "Lifecycle Controller in use. Installing update.", "RED003", 50)
            if self.faults.job_hangs:
                continue
            await self._sleep(self.timings.apply_on_reboot)
            await self._while_held()
            self._apply(job)
            job.complete()
        await self._sleep(self.timings.post)
        bad = self.faults.critical_with_version
        if self.faults.critical_after_boot or bad in self.firmware.values():
            self.health = "Critical"
            self.logs.component_failed()
        elif bad is not None:
            self.health = "OK"  # the part passes its self-test again without the bad release
        self._set_server_status("OutOfPOST")
        await self.services.notify_vcenter(self, "connected")
        await self._sleep(self.timings.lc_after_post)
        self.lc_ready = True

    def _set_server_status(self, status: str) -> None:
        """POST progress, stamped when it changes (BootProgress.LastStateTime)."""
        if status != self.server_status:
            self.server_status, self.server_status_since = status, _iso_now()

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
