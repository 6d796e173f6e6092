"""The two logs an iDRAC keeps: the Lifecycle Controller log and the System Event Log.

Operators read them to learn what happened to a host (an update, a reboot, a fault), and
some tools prove a reboot from them (a new RAC0182/SYS1003 entry). Entry texts and
MessageIds are the ones real iDRACs write (docs/redfish.md, "Logs").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simulators.idrac.jobs import SimJob, utc_now

MAX_ENTRIES = 1000  # both logs wrap (OverWritePolicy WrapsWhenFull)


@dataclass(frozen=True)
class LogEntry:
    id: int
    created: datetime
    message_id: str
    message: str
    args: tuple[str, ...]
    severity: str  # OK, Warning, Critical
    category: str  # Dell LC category: Audit, Configuration, Updates, System Health


@dataclass
class Log:
    entries: list[LogEntry] = field(default_factory=list)
    _serial: int = 0

    def add(
        self, message_id: str, message: str, *args: str, severity: str = "OK", category: str
    ) -> None:
        self._serial += 1
        entry = LogEntry(self._serial, utc_now(), message_id, message, args, severity, category)
        self.entries = [*self.entries[-(MAX_ENTRIES - 1) :], entry]

    def newest_first(self) -> list[LogEntry]:
        return self.entries[::-1]

    def get(self, entry_id: str) -> LogEntry | None:
        return next((e for e in self.entries if str(e.id) == entry_id), None)


@dataclass
class HostLogs:
    """What the simulated iDRAC records, in the words real iDRACs use."""

    lifecycle: Log = field(default_factory=Log)
    sel: Log = field(default_factory=Log)
    idrac_started: datetime = field(default_factory=utc_now)  # the manager's LastResetTime

    def job_finished(self, job: SimJob) -> None:
        if job.failed:
            self.lifecycle.add(job.message_id, job.message, severity="Critical", category="Updates")
            return
        self.lifecycle.add(
            "JCP037",
            f"The (installation or configuration) job {job.id} is successfully completed.",
            job.id,
            category="Configuration",
        )

    def powered_off(self) -> None:
        self.lifecycle.add("SYS1001", "System is turning off.", category="Audit")

    def powered_on(self) -> None:
        self.lifecycle.add("SYS1000", "System is turning on.", category="Audit")
        self.sel.add("SYS1003", "System CPU Resetting.", category="System Health")

    def idrac_reset(self, reason: str) -> None:
        self.idrac_started = utc_now()
        self.lifecycle.add(
            "RAC0182",
            f"The iDRAC firmware was rebooted with the following reason: {reason}.",
            reason,
            category="Audit",
        )

    def component_failed(self) -> None:
        """The fault `critical_after_boot` injects: a part fails its power-on self-test."""
        message = "CPU 1 has a thermal trip (over-temperature) event."
        for log in (self.sel, self.lifecycle):
            log.add("CPU0001", message, "1", severity="Critical", category="System Health")
