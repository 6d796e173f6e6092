"""A simulated Dell job (a Redfish task on the standard path) and the messages it shows.

MessageIds marked "reference" are the ones captured from real iDRACs (reference §5.4,
§10); the others are the simulator's own choice for progress steps with no public capture.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# MessageId -> message text for failures a fault can inject (reference §5.4, §10).
FAILURE_MESSAGES: dict[str, str] = {
    "RED007": "Unable to verify Update Package signature.",
    "RED106": "Unable to parse the lc_validator_output.xml file because of an internal error.",
    "SUP024": "InstanceID value provided for the update operation is invalid",
    "SYS226": "Unable to transfer image file: the remote HTTP server returned 404 Not Found.",
    "SYS252": "Unable to transfer image file: the file is not at the remote location.",
    "SYS261": "Unable to transfer image file: the network connection failed.",
    "SUP0518": "Unable to find a device applicable to the update package.",
}
# Two sentences joined without a plain space in captures (#266: "pending In order"): the
# iDRAC separates them with a no-break space.
REBOOT_PENDING_MESSAGE = (
    "Job completed, server reboot pending\u00a0In order to apply changes, perform a virtual "
    "A/C power cycle using ResetType 'PowerCycle'."
)
_ids = itertools.count(int(time.time()) % 10**6 * 10**6)


def new_job_id(prefix: str = "JID") -> str:
    return f"{prefix}_{next(_ids) % 10**12:012d}"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class SimJob:
    id: str
    name: str
    job_type: str  # FirmwareUpdate, FirmwareRollback, RebootNoForce, RebootForce
    component: str | None = None  # component key for firmware jobs
    target_version: str | None = None
    state: str = "New"  # Dell JobState
    message: str = "Job created."
    message_id: str = "JCP000"  # without the registry prefix, which the personality adds
    percent: int = 0
    failed: bool = False
    needs_power_cycle: bool = False
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    started_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None
    on_finish: Callable[[SimJob], None] | None = None  # the host's Lifecycle log

    def set(self, state: str, message: str, message_id: str, percent: int | None = None) -> None:
        self.state, self.message, self.message_id = state, message, message_id
        if percent is not None:
            self.percent = percent

    def complete(
        self, message: str = "Job completed successfully.", message_id: str = "RED001"
    ) -> None:
        self.set("Completed", message, message_id, 100)
        self._finish()

    def fail(self, message_id: str, message: str | None = None) -> None:
        self.failed = True
        self.set("Failed", message or FAILURE_MESSAGES.get(message_id, "Job failed."), message_id)
        self._finish()

    def _finish(self) -> None:
        self.finished = time.monotonic()
        self.ended_at = utc_now()
        if self.on_finish:
            self.on_finish(self)

    @property
    def terminal(self) -> bool:
        return self.finished is not None

    @property
    def task_state(self) -> str:
        """The DMTF TaskState an iDRAC shows for this Dell JobState (reference §5.3)."""
        if self.failed:
            return "Exception"
        if self.needs_power_cycle and self.terminal:
            return "UserIntervention"
        return {
            "New": "New",
            "Scheduled": "Starting",
            "Completed": "Completed",
            "RebootCompleted": "Completed",
        }.get(self.state, "Running")
