"""Wait for a rebooting host to leave vCenter (notResponding/disconnected) and return."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from pydantic import Field
from pyVmomi import vim

from integrations.vcenter.client import VCenterClient, props_of
from integrations.vcenter.errors import ReconnectTimeoutError
from integrations.vcenter.inventory import find_host, read_scope
from integrations.vcenter.models import FrozenModel, HostInfo
from integrations.vcenter.tracing import traced


class RebootObservation(FrozenModel):
    host: str
    went_to: str | None = Field(
        description="state seen while the host was away; None if only its boot time told"
    )
    connection_state: str
    boot_time: datetime | None


class HostLiveness(FrozenModel):
    connection_state: str
    boot_time: datetime | None
    in_maintenance: bool


@traced("host liveness")
def host_liveness(client: VCenterClient, host_moid: str) -> HostLiveness:
    host_ref = client.managed_object(vim.HostSystem, host_moid)
    paths = ["runtime.connectionState", "runtime.bootTime", "runtime.inMaintenanceMode"]
    found = client.retrieve_objects([host_ref], vim.HostSystem, paths)
    props = props_of(found[0]) if found else {}
    return HostLiveness(
        connection_state=str(props.get("runtime.connectionState") or "unknown"),
        boot_time=props.get("runtime.bootTime"),
        in_maintenance=bool(props.get("runtime.inMaintenanceMode")),
    )


def wait_for_reboot(
    client: VCenterClient,
    host_name: str,
    *,
    down_timeout_s: float,
    up_timeout_s: float,
    poll_s: float = 1.0,
    rebooted_after: datetime | None = None,
) -> RebootObservation:
    """Wait for the host to drop (notResponding/disconnected), then to be connected again.

    With ``rebooted_after`` (when the reboot was requested), a host already back with
    a later boot time counts as rebooted even though its absence was not seen.
    """
    host, _ = find_host(read_scope(client, host=host_name), host_name)

    def away_or_rebooted(now: HostLiveness) -> bool:
        return now.connection_state != "connected" or _booted_since(now, rebooted_after)

    first = _poll_until(client, host, away_or_rebooted, down_timeout_s, poll_s, "go away")
    went_to = None if first.connection_state == "connected" else first.connection_state
    back = _poll_until(
        client,
        host,
        lambda now: now.connection_state == "connected",
        up_timeout_s,
        poll_s,
        "come back",
    )
    return RebootObservation(
        host=host.name, went_to=went_to, connection_state="connected", boot_time=back.boot_time
    )


def _booted_since(now: HostLiveness, since: datetime | None) -> bool:
    return since is not None and now.boot_time is not None and now.boot_time > since


def _poll_until(
    client: VCenterClient,
    host: HostInfo,
    done: Callable[[HostLiveness], bool],
    timeout_s: float,
    poll_s: float,
    what: str,
) -> HostLiveness:
    deadline = time.monotonic() + timeout_s
    while True:
        now = host_liveness(client, host.moid)
        if done(now):
            return now
        if time.monotonic() >= deadline:
            raise ReconnectTimeoutError(
                f"{host.name} did not {what} within {timeout_s:g} s "
                f"(connection state: {now.connection_state})"
            )
        time.sleep(poll_s)
