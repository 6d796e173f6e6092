"""vCenter activities of the host runbook and the rollout: sync pyvmomi on the thread pool.

Each call borrows a logged-in session (one thread at a time: pyvmomi stubs are not
thread-safe), reads only the cluster it is about, and heartbeats from a thread so a
dead worker is noticed within a minute.
"""

from __future__ import annotations

import time

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit_trail import (
    MAINTENANCE_ENTER,
    MAINTENANCE_EXIT,
    VMS_RETURN,
    audit_host_action,
)
from activities.heartbeat import heartbeating_thread
from activities.names import Vcenter
from activities.resources import Resources
from domain.capacity import CapacityAnswer, CapacityPolicy, may_enter_maintenance
from domain.runbook import (
    CapacityRequest,
    Evacuation,
    HostRequest,
    MaintenanceRequest,
    ReturnVmsRequest,
    VcenterPreflight,
)
from integrations.vcenter import (
    MaintenanceBlockedError,
    MaintenanceOptions,
    cluster_facts,
    enter_maintenance,
    exit_maintenance,
    preflight_enter,
    read_scope,
    return_vms,
)
from integrations.vcenter.inventory import host_moid
from integrations.vcenter.reboot import host_liveness


def _options(request: MaintenanceRequest) -> MaintenanceOptions:
    return MaintenanceOptions(
        evacuation="migrate",
        timeout_s=float(request.timeout_s),
        capacity=CapacityPolicy(
            max_concurrent=request.max_concurrent,
            min_hosts_online=max(1, request.min_hosts_online),
        ),
    )


class _Moves:
    """VMs moved so far, heartbeated as progress: a retry after a worker crash starts from
    what the earlier attempt recorded, so its result still names those VMs."""

    def __init__(self) -> None:
        earlier = activity.info().heartbeat_details
        self.moves: dict[str, str] = dict(earlier[0]) if earlier else {}

    def add(self, vm: str, host: str) -> None:
        self.moves = {**self.moves, vm: host}  # replaced, never mutated: the beat thread reads it
        activity.heartbeat(self.moves)

    def details(self) -> tuple[dict[str, str]]:
        return (self.moves,)


def _listed(moves: dict[str, str]) -> str:
    return f"{len(moves)} VM(s) ({', '.join(f'{vm} -> {host}' for vm, host in moves.items())})"


class VcenterActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Vcenter.PREFLIGHT)
    def preflight(self, request: MaintenanceRequest) -> VcenterPreflight:
        """Room in the cluster is not asked here: the rollout asks for it just before the
        host starts, and a host whose cluster is only short of room now waits for it."""
        with heartbeating_thread(), self.resources.vcenter(request.host.vcenter_id) as client:
            check = preflight_enter(client, request.host.name, _options(request))
        return VcenterPreflight(
            connected=not any(b.kind == "not_connected" for b in check.blockers),
            in_maintenance=check.already_in_maintenance,
            blockers=[str(b) for b in check.blockers if not b.transient],
        )

    @activity.defn(name=Vcenter.ENTER_MAINTENANCE)
    def enter_maintenance(self, request: MaintenanceRequest) -> Evacuation:
        """Where DRS is not fully automated, the VMs are moved here first; the moves are
        the result, so the runbook can bring the VMs back after maintenance."""
        moved = _Moves()
        with (
            heartbeating_thread(moved.details),
            self.resources.vcenter(request.host.vcenter_id) as client,
        ):
            try:
                enter_maintenance(client, request.host.name, _options(request), moved.add)
            except MaintenanceBlockedError as blocked:
                # Something changed since preflight (another host went down): a verdict.
                done = moved.moves
                earlier = f"; an earlier attempt moved {_listed(done)}" if done else ""
                raise ApplicationError(
                    f"{blocked}{earlier}", type="MaintenanceBlocked", non_retryable=True
                ) from None
        how = f"{_listed(moved.moves)} moved by the orchestrator" if moved.moves else "by DRS"
        audit_host_action(
            self.resources,
            MAINTENANCE_ENTER,
            request.host.service_tag,
            f"{request.host.name} in maintenance mode (VMs evacuated {how})",
        )
        return Evacuation(moves=moved.moves)

    @activity.defn(name=Vcenter.RETURN_VMS)
    def return_vms(self, request: ReturnVmsRequest) -> None:
        """VMs that cannot come back stay where they are, named in the audit trail: a
        host updated and back in service is not failed for the VMs' placement."""
        moved = _Moves()
        with (
            heartbeating_thread(moved.details),
            self.resources.vcenter(request.host.vcenter_id) as client,
        ):
            back = return_vms(
                client,
                request.host.name,
                request.moves,
                request.timeout_s,
                self.resources.vcenter_poll_s,
                moved.add,
            )
        stayed = "".join(f"; {u.reason}" for u in back.stayed)
        audit_host_action(
            self.resources,
            VMS_RETURN,
            request.host.service_tag,
            f"{len(back.returned)} VM(s) back on {back.host}{stayed}",
        )

    @activity.defn(name=Vcenter.EXIT_MAINTENANCE)
    def exit_maintenance(self, request: HostRequest) -> None:
        with heartbeating_thread(), self.resources.vcenter(request.host.vcenter_id) as client:
            result = exit_maintenance(client, request.host.name)
        if not result.changed and activity.info().attempt == 1:
            return  # never in maintenance (an undo after a failed entry): nothing to audit
        audit_host_action(
            self.resources,
            MAINTENANCE_EXIT,
            request.host.service_tag,
            f"{request.host.name} out of maintenance mode",
        )

    @activity.defn(name=Vcenter.WAIT_RECONNECTED)
    def wait_reconnected(self, request: MaintenanceRequest) -> None:
        """After the reboot: connected again (it may well be already)."""
        deadline = time.monotonic() + request.timeout_s
        with heartbeating_thread(), self.resources.vcenter(request.host.vcenter_id) as client:
            moid = host_moid(client, request.host.name)
            while True:  # one property of one host per poll, not the whole inventory
                state = host_liveness(client, moid).connection_state
                if state == "connected":
                    return
                if time.monotonic() > deadline:
                    raise ApplicationError(
                        f"{request.host.name} still {state} {request.timeout_s} s after the "
                        "update; it stays in maintenance",
                        type="ReconnectTimeout",
                        non_retryable=True,
                    )
                time.sleep(self.resources.vcenter_poll_s)

    @activity.defn(name=Vcenter.CAPACITY)
    def capacity(self, request: CapacityRequest) -> CapacityAnswer:
        """vCenter's answer, counting the rollout's own hosts as down already."""
        with heartbeating_thread(), self.resources.vcenter(request.vcenter_id) as client:
            cluster = read_scope(client, cluster=request.cluster).cluster(request.cluster)
        if cluster is None:
            raise ApplicationError(
                f"vCenter has no cluster named {request.cluster!r}",
                type="ClusterNotFound",
                non_retryable=True,
            )
        facts = cluster_facts(cluster)
        busy = set(request.busy_hosts)
        facts = facts.model_copy(
            update={
                "hosts": [
                    h.model_copy(update={"available": False}) if h.name in busy else h
                    for h in facts.hosts
                ]
            }
        )
        return may_enter_maintenance(
            facts,
            CapacityPolicy(
                max_concurrent=request.max_concurrent,
                min_hosts_online=max(1, request.min_hosts_online),
            ),
        )

    def all(self) -> list[object]:
        return [
            self.preflight,
            self.enter_maintenance,
            self.return_vms,
            self.exit_maintenance,
            self.wait_reconnected,
            self.capacity,
        ]
