"""vCenter sync activities: the run records on ``campaigns``, the read-and-apply on ``vcenter``.

The login is resolved here from the vCenter's credential profile; the workflow carries run
ids only.
"""

from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeating_thread
from activities.names import VcenterSync
from activities.resources import Resources
from domain.vcenter_sync import SeenHost, SyncReport
from integrations.vcenter import read_inventory
from integrations.vcenter.models import Inventory
from store.vcenter_sync import apply_sync, fail_sync, start_scheduled_runs, vcenter_of_run


def seen_hosts(inventory: Inventory) -> list[SeenHost]:
    return [
        SeenHost(
            moid=host.moid,
            name=host.name,
            service_tag=host.service_tag.upper() if host.service_tag else None,
            datacenter=host.datacenter,
            cluster=host.cluster,
        )
        for host in inventory.hosts()
    ]


class VcenterSyncActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=VcenterSync.START_SCHEDULED)
    def start_scheduled(self) -> list[int]:
        return start_scheduled_runs(self.resources.engine)

    @activity.defn(name=VcenterSync.SYNC)
    def sync(self, run_id: int) -> SyncReport:
        vcenter_id = vcenter_of_run(self.resources.engine, run_id)
        with heartbeating_thread(), self.resources.vcenter(vcenter_id) as client:
            inventory = read_inventory(client)
        return apply_sync(
            self.resources.engine,
            run_id,
            [dc.name for dc in inventory.datacenters],
            seen_hosts(inventory),
            [cluster.name for cluster in inventory.clusters()],
        )

    @activity.defn(name=VcenterSync.FAIL)
    def fail(self, run_id: int, reason: str) -> None:
        fail_sync(self.resources.engine, run_id, reason)

    def storing(self) -> list[object]:
        """Sync store activities for the ``campaigns`` queue."""
        return [self.start_scheduled, self.fail]

    def reading(self) -> list[object]:
        """The pyvmomi read for the ``vcenter`` queue."""
        return [self.sync]
