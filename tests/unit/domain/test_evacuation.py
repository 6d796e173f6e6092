"""The evacuation planner: hand-built clusters for each rule, then properties over
generated clusters that every plan must keep whatever the load and the rules."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.evacuation import (
    Headroom,
    MovePlan,
    PlacementHost,
    VmHostRule,
    VmToMove,
    VmVmRule,
    plan_moves,
)

GB = 1024


def _host(name: str, memory_gb: int = 64, used_gb: int = 0, **extra: object) -> PlacementHost:
    spec = {"cpu_mhz": 20_000, "memory_mb": memory_gb * GB, "used_memory_mb": used_gb * GB}
    return PlacementHost.model_validate({"name": name, "accepts_vms": True, **spec, **extra})


def _vm(name: str, memory_gb: int = 8, host: str = "src", **extra: object) -> VmToMove:
    return VmToMove.model_validate(
        {"name": name, "host": host, "cpu_mhz": 1000, "memory_mb": memory_gb * GB, **extra}
    )


SOURCE = _host("src", accepts_vms=False)


def _reasons(plan: MovePlan) -> dict[str, str]:
    return {u.vm: u.reason for u in plan.unmovable}


def test_largest_vm_first_to_the_host_with_most_free_memory() -> None:
    hosts = [SOURCE, _host("a", used_gb=40), _host("b", used_gb=20)]
    plan = plan_moves("c", [_vm("small", 4), _vm("big", 30)], hosts)
    # big: b has 44 GB free, a 24 -> b (14 left); small: a (24) beats b (14).
    assert plan.moves == {"big": "b", "small": "a"}
    assert plan.unmovable == []


def test_a_vm_that_fits_nowhere_is_named_with_what_it_needs() -> None:
    plan = plan_moves("c", [_vm("huge", 100)], [SOURCE, _host("a"), _host("b")])
    assert plan.moves == {}
    assert _reasons(plan) == {
        "huge": "VM huge does not fit on any other host of c: it needs 1000 MHz CPU and "
        "102400 MB memory within a host's headroom"
    }


def test_passthrough_local_storage_and_pins_are_named_first() -> None:
    pin = VmHostRule(
        name="pin", vms=frozenset({"pinned"}), hosts=frozenset({"src"}), affine=True, mandatory=True
    )
    vms = [
        _vm("gpu", passthrough=True),
        _vm("local", storage_hosts=frozenset({"src"})),
        _vm("pinned"),
        _vm("free"),
    ]
    plan = plan_moves("c", vms, [SOURCE, _host("a")], host_rules=[pin])
    assert plan.moves == {"free": "a"}
    assert _reasons(plan) == {
        "gpu": "VM gpu has a PCI passthrough device and cannot be migrated",
        "local": "VM local is on storage no other host of c mounts (local storage)",
        "pinned": "VM pinned is pinned by a mandatory VM-host affinity rule to src",
    }


def test_storage_mounted_by_some_hosts_limits_the_targets() -> None:
    hosts = [SOURCE, _host("a"), _host("b", used_gb=60)]
    plan = plan_moves("c", [_vm("v", storage_hosts=frozenset({"src", "b"}))], hosts)
    assert plan.moves == {}  # a has room but not the datastore; b has the datastore only
    assert "does not fit" in _reasons(plan)["v"]


def test_vm_host_rules_must_and_should() -> None:
    hosts = [SOURCE, _host("a"), _host("b", used_gb=30), _host("c", used_gb=10)]
    must_not = VmHostRule(
        name="not-a", vms=frozenset({"v1"}), hosts=frozenset({"a"}), affine=False, mandatory=True
    )
    should = VmHostRule(
        name="prefer-b", vms=frozenset({"v2"}), hosts=frozenset({"b"}), affine=True, mandatory=False
    )
    plan = plan_moves("c", [_vm("v1"), _vm("v2")], hosts, host_rules=[must_not, should])
    assert plan.moves == {"v1": "c", "v2": "b"}  # v2 prefers b although a has more room


def test_dedicated_ha_failover_hosts_and_unavailable_hosts_take_nothing() -> None:
    hosts = [SOURCE, _host("spare", ha_failover=True), _host("down", accepts_vms=False)]
    plan = plan_moves("c", [_vm("v")], [*hosts, _host("a", used_gb=60)])
    assert plan.moves == {}
    assert "does not fit" in _reasons(plan)["v"]


def test_headroom_caps_each_host_by_policy_and_ha_percentage() -> None:
    hosts = [SOURCE, _host("a", memory_gb=100, used_gb=60)]
    vm = [_vm("v", 20)]
    assert plan_moves("c", vm, hosts).moves == {"v": "a"}
    assert plan_moves("c", vm, hosts, headroom=Headroom(max_utilization_percent=75)).moves == {}
    reserved = Headroom(memory_reserved_percent=25)
    assert plan_moves("c", vm, hosts, headroom=reserved).moves == {}
    assert plan_moves("c", vm, hosts, headroom=Headroom(memory_reserved_percent=20)).moves == {
        "v": "a"
    }


def test_affinity_moves_a_group_together_and_joins_partners_elsewhere() -> None:
    hosts = [SOURCE, _host("a"), _host("b", used_gb=8, vms=frozenset({"db"}))]
    app = VmVmRule(name="app", vms=frozenset({"web", "api"}), together=True)
    plan = plan_moves("c", [_vm("web"), _vm("api")], hosts, vm_rules=[app])
    assert plan.moves == {"api": "a", "web": "a"}
    with_db = VmVmRule(name="db", vms=frozenset({"web", "db"}), together=True)
    plan = plan_moves("c", [_vm("web"), _vm("api")], hosts, vm_rules=[app, with_db])
    assert plan.moves == {"api": "b", "web": "b"}  # where db runs, though a has more room


def test_affinity_partner_that_cannot_move_keeps_the_group() -> None:
    app = VmVmRule(name="app", vms=frozenset({"web", "gpu"}), together=True)
    plan = plan_moves(
        "c", [_vm("web"), _vm("gpu", passthrough=True)], [SOURCE, _host("a")], vm_rules=[app]
    )
    assert plan.moves == {}
    assert _reasons(plan)["web"] == (
        "VM web must stay with VM gpu (affinity rule app), which cannot move"
    )


def test_anti_affinity_spreads_members_and_says_when_no_host_is_left() -> None:
    hosts = [SOURCE, _host("a"), _host("b", used_gb=8, vms=frozenset({"n3"}))]
    apart = VmVmRule(name="spread", vms=frozenset({"n1", "n2", "n3"}), together=False)
    plan = plan_moves("c", [_vm("n1"), _vm("n2")], hosts, vm_rules=[apart])
    assert plan.moves == {"n1": "a"}
    assert _reasons(plan) == {
        "n2": "VM n2 has no host left under anti-affinity rule spread: every other allowed "
        "host already runs a member"
    }


def test_returning_vms_obeys_the_same_rules() -> None:
    """Coming back: the VMs start on several hosts and only their home takes VMs."""
    hosts = [
        _host("home", memory_gb=32),
        _host("a", accepts_vms=False, vms=frozenset({"v1"})),
        _host("b", accepts_vms=False, vms=frozenset({"v2", "v3"})),
    ]
    vms = [_vm("v1", 16, host="a"), _vm("v2", 12, host="b"), _vm("v3", 12, host="b")]
    plan = plan_moves("c", vms, hosts)
    assert plan.moves == {"v1": "home", "v2": "home"}
    assert "does not fit" in _reasons(plan)["v3"]


# ---- properties ------------------------------------------------------------------------

HOSTS = [f"h{i}" for i in range(5)]
VMS = [f"v{i}" for i in range(10)]
PERCENT = st.integers(1, 100)
names_st = st.frozensets(st.sampled_from(HOSTS), max_size=5)


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[VmToMove], list[PlacementHost], list, list]:
    hosts = [
        PlacementHost(
            name=name,
            cpu_mhz=draw(st.integers(0, 40_000)),
            memory_mb=draw(st.integers(0, 200_000)),
            used_cpu_mhz=draw(st.integers(0, 20_000)),
            used_memory_mb=draw(st.integers(0, 100_000)),
            vms=draw(st.frozensets(st.sampled_from(["x0", "x1", "x2"]), max_size=2)),
            accepts_vms=name != "h0" and draw(st.booleans()),
            ha_failover=draw(st.booleans()) and draw(st.booleans()),
        )
        for name in HOSTS
    ]
    vms = [
        VmToMove(
            name=name,
            host="h0",
            cpu_mhz=draw(st.integers(0, 8_000)),
            memory_mb=draw(st.integers(0, 60_000)),
            passthrough=draw(st.integers(0, 9)) == 0,
            storage_hosts=draw(st.none() | names_st),
        )
        for name in draw(st.lists(st.sampled_from(VMS), unique=True, max_size=8))
    ]
    vm_names = st.frozensets(st.sampled_from([*VMS, "x0", "x1", "x2"]), min_size=2, max_size=4)
    host_rules = draw(
        st.lists(
            st.builds(
                VmHostRule,
                name=st.sampled_from(["r1", "r2", "r3"]),
                vms=vm_names,
                hosts=names_st,
                affine=st.booleans(),
                mandatory=st.booleans(),
            ),
            max_size=3,
        )
    )
    vm_rules = draw(
        st.lists(
            st.builds(
                VmVmRule, name=st.sampled_from(["g1", "g2"]), vms=vm_names, together=st.booleans()
            ),
            max_size=3,
        )
    )
    return vms, hosts, host_rules, vm_rules


@settings(max_examples=150, deadline=None)
@given(
    cluster=clusters(),
    headroom=st.builds(
        Headroom,
        max_utilization_percent=PERCENT,
        cpu_reserved_percent=PERCENT,
        memory_reserved_percent=PERCENT,
    ),
)
def test_every_plan_keeps_every_rule(
    cluster: tuple[list[VmToMove], list[PlacementHost], list, list], headroom: Headroom
) -> None:
    vms, hosts, host_rules, vm_rules = cluster
    plan = plan_moves("c", vms, hosts, host_rules, vm_rules, headroom)
    by_name = {h.name: h for h in hosts}

    # Every VM is either moved or named with a reason, never both.
    assert sorted([*plan.moves, *(u.vm for u in plan.unmovable)]) == sorted(v.name for v in vms)
    assert all(u.reason for u in plan.unmovable)
    for vm in vms:
        target = plan.moves.get(vm.name)
        if target is None:
            continue
        host = by_name[target]
        assert host.accepts_vms and not host.ha_failover and target != vm.host
        assert not vm.passthrough
        assert vm.storage_hosts is None or target in vm.storage_hosts
        for rule in host_rules:
            if rule.mandatory and vm.name in rule.vms:
                assert (target in rule.hosts) == rule.affine
    after = {h.name: set(h.vms) for h in hosts}
    for vm, target in plan.moves.items():
        after[target].add(vm)
    cap = headroom.max_utilization_percent
    cpu_share = min(cap, 100 - headroom.cpu_reserved_percent)
    memory_share = min(cap, 100 - headroom.memory_reserved_percent)
    for host in hosts:
        placed = [vm for vm in vms if plan.moves.get(vm.name) == host.name]
        if placed:  # within its headroom: the cap, less HA's reserve, less its own load
            assert sum(v.memory_mb for v in placed) <= (
                host.memory_mb * memory_share // 100 - host.used_memory_mb
            )
            assert sum(v.cpu_mhz for v in placed) <= host.cpu_mhz * cpu_share // 100 - (
                host.used_cpu_mhz
            )
    for rule in vm_rules:
        moved = [vm for vm in rule.vms if vm in plan.moves]
        if rule.together:
            assert len({plan.moves[vm] for vm in moved}) <= 1
        else:
            for vm in moved:
                assert not (rule.vms - {vm}) & after[plan.moves[vm]]


@settings(max_examples=60, deadline=None)
@given(cluster=clusters(), seed=st.integers(0, 1000))
def test_the_order_of_the_inputs_does_not_change_the_plan(
    cluster: tuple[list[VmToMove], list[PlacementHost], list, list], seed: int
) -> None:
    vms, hosts, host_rules, vm_rules = cluster
    shuffled_vms, shuffled_hosts = list(vms), list(hosts)
    random.Random(seed).shuffle(shuffled_vms)
    random.Random(seed).shuffle(shuffled_hosts)
    assert plan_moves("c", shuffled_vms, shuffled_hosts, host_rules, vm_rules) == plan_moves(
        "c", vms, hosts, host_rules, vm_rules
    )
