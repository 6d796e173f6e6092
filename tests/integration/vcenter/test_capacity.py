"""Capacity answers on vcsim clusters, each checked against a hand computation."""

from __future__ import annotations

from domain.capacity import CapacityPolicy
from integrations.vcenter import (
    MaintenanceOptions,
    VCenterClient,
    cluster_capacity,
    enter_maintenance,
    exit_maintenance,
)

TWO_AT_ONCE = CapacityPolicy(max_concurrent=2, min_hosts_online=1)


def test_ha_reserving_one_failover_host(vcenter: VCenterClient) -> None:
    """3 hosts x 64 GiB, 6 VMs x 8 GiB (48 GiB), HA tolerates 1 host failure.

    Hand computation: HA keeps 1 + 1 = 2 hosts online, so 3 - 2 = 1 may enter. Memory
    agrees: with 1 host down, 2 remain, minus 1 reserved = 64 GiB >= 48 GiB; with 2 down
    nothing is left. HA is listed first, so its reason is the answer's.
    """
    answer = cluster_capacity(vcenter, "ha-one", TWO_AT_ONCE)
    assert answer.may_enter == 1
    assert answer.reason == (
        "HA admission control tolerates 1 host failure(s), so 2 host(s) must stay online "
        "and 3 are online"
    )
    assert {limit.rule: limit.allows for limit in answer.limits} == {
        "max_concurrent": 2,
        "min_hosts_online": 2,
        "ha_failover_hosts": 1,
        "cpu_memory": 1,
    }

    enter_maintenance(vcenter, "ha-one-1.test", MaintenanceOptions(capacity=TWO_AT_ONCE))
    try:
        after = cluster_capacity(vcenter, "ha-one", TWO_AT_ONCE)
        # 2 online, HA needs 2: none more; the 6 VMs (6000 MHz reserved) now run on the rest.
        assert after.may_enter == 0
        assert after.hosts_available == 2
        assert after.reason == (
            "HA admission control tolerates 1 host failure(s), so 2 host(s) must stay online "
            "and 2 are online"
        )
    finally:
        exit_maintenance(vcenter, "ha-one-1.test")


def test_ha_percentage_limits_before_raw_memory(vcenter: VCenterClient) -> None:
    """4 hosts x 100 GiB, 12 VMs x 10 GiB = 120 GiB, HA reserves 50 %.

    Hand computation: 50 % of 3 hosts = 150 GiB >= 120 GiB, of 2 hosts = 100 GiB < 120
    GiB, so HA allows 1. Raw memory allows 2 (200 GiB; 100 GiB is too little).
    """
    answer = cluster_capacity(vcenter, "percent", CapacityPolicy(max_concurrent=3))
    assert answer.may_enter == 1
    assert answer.reason == (
        "HA admission control reserves 50% CPU and 50% memory; with 2 more host(s) in "
        "maintenance the rest offers 20000 MHz and 102400 MB for VMs needing 0 MHz and "
        "122880 MB"
    )
    limits = {limit.rule: limit.allows for limit in answer.limits}
    assert limits["cpu_memory"] == 2
    assert limits["max_concurrent"] == 3


def test_single_host_cluster_allows_none(vcenter: VCenterClient) -> None:
    answer = cluster_capacity(vcenter, "single", TWO_AT_ONCE)
    assert answer.may_enter == 0
    assert answer.reason == "cluster single has a single host: its VMs have nowhere to run"


def test_policy_max_concurrent_counts_hosts_already_down(vcenter: VCenterClient) -> None:
    """drs-auto: 3 hosts, 6 x 8 GiB. One host in maintenance uses up max_concurrent=1."""
    policy = CapacityPolicy(max_concurrent=1)
    assert cluster_capacity(vcenter, "drs-auto", policy).may_enter == 1
    enter_maintenance(vcenter, "drs-auto-3.test", MaintenanceOptions(capacity=policy))
    try:
        answer = cluster_capacity(vcenter, "drs-auto", policy)
        assert answer.may_enter == 0
        assert answer.reason == (
            "policy allows 1 host(s) down at once and 1 already in maintenance or not connected"
        )
    finally:
        exit_maintenance(vcenter, "drs-auto-3.test")
