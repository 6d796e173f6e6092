"""Capacity math: hand computations, then properties that must hold for any cluster."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.capacity import (
    CapacityPolicy,
    ClusterFacts,
    HaAdmission,
    HostResources,
    VmLoad,
    _largest_first,
    may_enter_maintenance,
)


def _hosts(*memory: int, down: int = 0) -> list[HostResources]:
    return [
        HostResources(name=f"h{i}", cpu_mhz=20_000, memory_mb=m, available=i >= down)
        for i, m in enumerate(memory)
    ]


def _vm(name: str, memory_mb: int, cpu_mhz: int = 0) -> VmLoad:
    return VmLoad(name=name, host="h0", cpu_mhz=cpu_mhz, memory_mb=memory_mb)


def test_memory_is_the_limit_with_its_reason() -> None:
    """4 x 100 GB hosts, VMs need 250 GB: 3 hosts (300) fit, 2 (200) do not -> 1."""
    facts = ClusterFacts(name="c", hosts=_hosts(*[100_000] * 4), vms=[_vm("big", 250_000)])
    answer = may_enter_maintenance(facts, CapacityPolicy(max_concurrent=4))
    assert answer.may_enter == 1
    assert answer.reason == (
        "powered-on VMs need 0 MHz CPU and 250000 MB memory; with 2 more host(s) in "
        "maintenance the remaining 2 host(s) offer 40000 MHz and 200000 MB at 100% utilisation"
    )


def test_utilisation_cap_shrinks_what_hosts_offer() -> None:
    """At 80 %, 3 hosts offer 240 GB < 250 GB: nothing may enter."""
    facts = ClusterFacts(name="c", hosts=_hosts(*[100_000] * 4), vms=[_vm("big", 250_000)])
    policy = CapacityPolicy(max_concurrent=4, max_utilization_percent=80)
    assert may_enter_maintenance(facts, policy).may_enter == 0


def test_cpu_can_be_the_limit() -> None:
    """5 hosts x 20 GHz, VMs need 61 GHz: 4 hosts (80) fit, 3 (60) do not -> 1."""
    facts = ClusterFacts(name="c", hosts=_hosts(*[10**6] * 5), vms=[_vm("hot", 1, 61_000)])
    assert may_enter_maintenance(facts, CapacityPolicy(max_concurrent=5)).may_enter == 1


def test_hosts_already_down_count_against_every_rule() -> None:
    """5 hosts, 2 not available: min_hosts_online=2 leaves 3 - 2 = 1."""
    facts = ClusterFacts(name="c", hosts=_hosts(*[100_000] * 5, down=2))
    answer = may_enter_maintenance(facts, CapacityPolicy(max_concurrent=5, min_hosts_online=2))
    assert (answer.may_enter, answer.hosts_available) == (1, 3)
    assert answer.reason == "policy keeps at least 2 host(s) online and 3 are online"


def test_failover_level_two_keeps_three_hosts() -> None:
    ha = HaAdmission(enabled=True, policy="failover_level", failover_level=2)
    facts = ClusterFacts(name="c", hosts=_hosts(*[100_000] * 4), ha=ha)
    answer = may_enter_maintenance(facts, CapacityPolicy(max_concurrent=4))
    assert answer.may_enter == 1
    assert answer.reason.startswith("HA admission control tolerates 2 host failure(s)")


def test_disabled_ha_reserves_nothing() -> None:
    ha = HaAdmission(enabled=False, policy="failover_level", failover_level=2)
    facts = ClusterFacts(name="c", hosts=_hosts(*[100_000] * 4), ha=ha)
    assert may_enter_maintenance(facts, CapacityPolicy(max_concurrent=4)).may_enter == 3


def test_vm_demand_takes_the_larger_of_reservation_and_use() -> None:
    vm = VmLoad.of(
        name="v",
        host="h",
        cpu_reservation_mhz=500,
        cpu_usage_mhz=1200,
        memory_reservation_mb=2048,
        memory_mb=4096,
    )
    assert (vm.cpu_mhz, vm.memory_mb) == (1200, 4096)


def test_duplicate_host_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate host names"):
        ClusterFacts(name="c", hosts=_hosts(1, 1) + _hosts(1))


hosts_st = st.lists(
    st.builds(
        HostResources,
        name=st.just(""),
        cpu_mhz=st.integers(0, 100_000),
        memory_mb=st.integers(0, 1_000_000),
        available=st.booleans(),
    ),
    min_size=1,
    max_size=8,
).map(lambda hs: [h.model_copy(update={"name": f"h{i}"}) for i, h in enumerate(hs)])
vms_st = st.lists(
    st.builds(
        VmLoad,
        name=st.just("vm"),
        host=st.just("h0"),
        cpu_mhz=st.integers(0, 50_000),
        memory_mb=st.integers(0, 500_000),
    ),
    max_size=10,
)
ha_st = st.builds(
    HaAdmission,
    enabled=st.booleans(),
    policy=st.sampled_from(["none", "failover_hosts", "failover_level", "percentage"]),
    failover_hosts=st.integers(0, 3),
    failover_level=st.integers(0, 3),
    cpu_failover_percent=st.integers(0, 100),
    memory_failover_percent=st.integers(0, 100),
)
policy_st = st.builds(
    CapacityPolicy,
    min_hosts_online=st.integers(1, 4),
    max_concurrent=st.integers(1, 4),
    max_utilization_percent=st.integers(1, 100),
)


@settings(max_examples=300, deadline=None)
@given(hosts=hosts_st, vms=vms_st, ha=ha_st, policy=policy_st)
def test_answer_respects_every_hard_rule(
    hosts: list[HostResources], vms: list[VmLoad], ha: HaAdmission, policy: CapacityPolicy
) -> None:
    facts = ClusterFacts(name="c", hosts=hosts, vms=vms, ha=ha)
    answer = may_enter_maintenance(facts, policy)
    available = [h for h in hosts if h.available]
    down = len(hosts) - len(available)

    assert 0 <= answer.may_enter <= max(0, len(available) - 1)
    assert down + answer.may_enter <= max(policy.max_concurrent, down)
    assert len(available) - answer.may_enter >= min(policy.min_hosts_online, len(available))
    assert answer.reason in {limit.reason for limit in answer.limits}
    if answer.may_enter:
        # Taking that many of the largest hosts still leaves room for every VM.
        remaining = _largest_first(available)[answer.may_enter :]
        usable = _largest_first(remaining)[ha.hosts_reserved :]
        share = policy.max_utilization_percent
        assert sum(v.memory_mb for v in vms) <= sum(h.memory_mb for h in usable) * share // 100
        assert sum(v.cpu_mhz for v in vms) <= sum(h.cpu_mhz for h in usable) * share // 100


@settings(max_examples=200, deadline=None)
@given(hosts=hosts_st, vms=vms_st, extra=vms_st, ha=ha_st, policy=policy_st)
def test_more_load_never_allows_more_hosts(
    hosts: list[HostResources],
    vms: list[VmLoad],
    extra: list[VmLoad],
    ha: HaAdmission,
    policy: CapacityPolicy,
) -> None:
    light = may_enter_maintenance(ClusterFacts(name="c", hosts=hosts, vms=vms, ha=ha), policy)
    heavy_facts = ClusterFacts(name="c", hosts=hosts, vms=vms + extra, ha=ha)
    assert may_enter_maintenance(heavy_facts, policy).may_enter <= light.may_enter
