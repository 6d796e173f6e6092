"""Errors of the vCenter adapter. Messages name the object and its state, never a secret."""

from __future__ import annotations


class VCenterError(RuntimeError):
    """Anything that went wrong talking to vCenter."""


class VCenterConnectionError(VCenterError):
    """vCenter cannot be reached, its certificate is not trusted, or the login failed."""


class NotFoundError(VCenterError):
    """No cluster or host with that name."""


class TaskFailedError(VCenterError):
    """A vCenter task ended in error; the message includes the host's state afterwards."""


class MaintenanceBlockedError(VCenterError):
    """Preflight found blockers; nothing was changed."""

    def __init__(self, host: str, blockers: list[str]) -> None:
        self.host = host
        self.blockers = blockers
        listed = "; ".join(blockers)
        super().__init__(f"{host} cannot enter maintenance (nothing was changed): {listed}")


class MaintenanceTimeoutError(VCenterError):
    """Entering maintenance did not finish in time; the task was cancelled."""

    def __init__(self, host: str, timeout_s: float, vms_on_host: list[str], state: str) -> None:
        self.host = host
        self.vms_on_host = vms_on_host
        names = ", ".join(vms_on_host) or "none"
        super().__init__(
            f"{host} did not enter maintenance within {timeout_s:g} s; the task was cancelled. "
            f"Host state: {state}. Powered-on VMs still on the host: {names}"
        )


class ReconnectTimeoutError(VCenterError):
    """A rebooting host did not go away, or did not come back, in time."""
