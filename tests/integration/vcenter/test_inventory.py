"""The one-read inventory against vcsim, checked against the fleet that built it."""

from __future__ import annotations

import pytest

from domain.evacuation import VmHostRule
from integrations.vcenter import NotFoundError, VCenterClient, read_inventory, read_scope
from integrations.vcenter.inventory import host_moid
from integrations.vcenter.models import ClusterInfo
from simulators.vcsim.harness import VcsimProcess

IDENTITY = {"service_tag": None, "vendor": None, "model": None, "management_ip": None}


def _without_identity(cluster: ClusterInfo | None) -> ClusterInfo:
    """What a scoped read returns: hosts' state and resources, not their identity."""
    assert cluster is not None
    hosts = [h.model_copy(update=IDENTITY) for h in cluster.hosts]
    return cluster.model_copy(update={"hosts": hosts})


def test_inventory_matches_the_fleet(vcenter: VCenterClient, scenario_vcsim: VcsimProcess) -> None:
    inventory = read_inventory(vcenter)

    fleet_hosts = {h.name: (c.name, h) for _, c, h in scenario_vcsim.fleet.hosts()}
    seen = {h.name: h for h in inventory.hosts()}
    assert set(seen) == set(fleet_hosts)
    for name, (cluster, spec) in fleet_hosts.items():
        host = seen[name]
        assert (host.datacenter, host.cluster) == ("dc-test", cluster)
        assert (host.service_tag, host.vendor, host.model) == (
            spec.service_tag,
            "Dell Inc.",
            spec.model,
        )
        assert host.connection_state == "connected"
        assert host.power_state == "poweredOn"
        assert host.in_maintenance is False
        assert (host.cpu_cores, host.cpu_mhz_per_core, host.memory_mb) == (
            spec.cpu_cores,
            spec.cpu_mhz,
            spec.memory_mb,
        )
    assert seen["drs-auto-1.test"].management_ip == "127.0.0.51"


def test_vms_carry_power_state_and_reservations(vcenter: VCenterClient) -> None:
    cluster = read_inventory(vcenter).cluster("ha-one")
    assert cluster is not None
    vms = sorted((vm for h in cluster.hosts for vm in h.vms), key=lambda vm: vm.name)
    expected = [(f"ha-one-{h}-vm-{v}", True, 8192, 1000) for h in (1, 2, 3) for v in (0, 1)]
    assert [(v.name, v.powered_on, v.memory_mb, v.cpu_reservation_mhz) for v in vms] == expected


def test_cluster_drs_and_ha_settings(vcenter: VCenterClient) -> None:
    inventory = read_inventory(vcenter)

    ha_one, percent, manual = (inventory.cluster(n) for n in ("ha-one", "percent", "drs-manual"))
    assert ha_one is not None and percent is not None and manual is not None
    assert ha_one.drs.fully_automated
    assert (ha_one.ha.policy, ha_one.ha.failover_hosts) == ("failover_hosts", ["ha-one-3.test"])
    assert (percent.ha.policy, percent.ha.cpu_failover_percent) == ("percentage", 50)
    assert (manual.drs.enabled, manual.drs.automation, manual.ha.enabled) == (True, "manual", False)
    blockers = inventory.cluster("blockers")
    assert blockers is not None
    assert blockers.host_rules == [
        VmHostRule(
            name="pin-pinned-vm",
            vms=frozenset({"pinned-vm"}),
            hosts=frozenset({"blockers-1.test"}),
            affine=True,
            mandatory=True,
        )
    ]


def test_inventory_is_a_constant_number_of_round_trips(vcenter: VCenterClient) -> None:
    """CreateContainerView, RetrievePropertiesEx x 2 (hosts etc., VMs), DestroyView."""
    before = vcenter.round_trips
    inventory = read_inventory(vcenter)
    assert len(inventory.hosts()) > 3
    assert vcenter.round_trips - before == 4


def test_scope_of_a_host_is_its_cluster_exactly_as_the_full_read_sees_it(
    vcenter: VCenterClient,
) -> None:
    full = read_inventory(vcenter)
    for host in full.hosts():
        scoped = read_scope(vcenter, host=host.name)
        assert scoped.clusters() == [_without_identity(full.cluster_of(host))], host.name
        assert [dc.name for dc in scoped.datacenters] == ["dc-test"]


def test_scope_of_a_cluster_reads_that_cluster_only(vcenter: VCenterClient) -> None:
    full = read_inventory(vcenter)
    for cluster in full.clusters():
        before = vcenter.round_trips
        scoped = read_scope(vcenter, cluster=cluster.name)
        # names + parents (view, read, destroy), the cluster's settings, its hosts and VMs
        # (view, one scalar read, destroy): constant, whatever the size of vCenter
        assert vcenter.round_trips - before == 7
        assert scoped.clusters() == [_without_identity(cluster)]


def test_scope_by_service_tag_or_unknown_name_falls_back_to_the_whole_inventory(
    vcenter: VCenterClient,
) -> None:
    full = read_inventory(vcenter)
    host = full.hosts()[0]
    assert host.service_tag
    by_tag = read_scope(vcenter, host=host.service_tag)
    assert by_tag == full
    assert read_scope(vcenter, cluster="no-such-cluster").cluster("no-such-cluster") is None


def test_a_host_is_found_by_its_name_alone(vcenter: VCenterClient) -> None:
    full = read_inventory(vcenter)
    for host in full.hosts():
        before = vcenter.round_trips
        assert host_moid(vcenter, host.name) == host.moid
        assert vcenter.round_trips - before == 3  # names only: view, read, destroy
        assert host.service_tag
        assert host_moid(vcenter, host.service_tag) == host.moid  # via the full read
    with pytest.raises(NotFoundError, match="no-such-host"):
        host_moid(vcenter, "no-such-host")
