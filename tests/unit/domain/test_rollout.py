"""The dry-run rollout plan: a hand-checked example, the caps, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.components import ComponentKind
from domain.estimates import estimate_host, history_key
from domain.rollout import (
    ClusterInventory,
    HostInventory,
    InstalledComponent,
    PlanRequest,
    RolloutPlan,
    plan_rollout,
)
from domain.windows import OneOffWindow, WeeklyWindow, fits, wait_reason

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)  # a Friday
BIOS, IDRAC, NIC = "159", "25227", "108255"
TARGET = {BIOS: "2.19.1", IDRAC: "7.10.70.00"}


def host(name: str, vms: int, bios: str, idrac: str, tag: str | None = None) -> HostInventory:
    return HostInventory(
        name=name,
        service_tag=tag or name.upper().ljust(7, "0")[:7],
        model="PowerEdge R650",
        vm_count=vms,
        components=[
            InstalledComponent(component_id=BIOS, version=bios, name="BIOS"),
            InstalledComponent(component_id=IDRAC, version=idrac, name="iDRAC"),
        ],
    )


def example_request(**changes: object) -> PlanRequest:
    clusters = [
        ClusterInventory(
            name="prod-a",
            max_concurrent=2,
            hosts=[
                host("esx01", 12, "2.18.1", "7.00.00.00"),
                host("esx02", 3, "2.19.1", "7.10.70.00"),  # compliant
                host("esx03", 5, "2.18.1", "7.10.70.00"),  # BIOS only
                host("esx04", 0, "2.18.1", "7.00.00.00"),
            ],
        ),
        ClusterInventory(
            name="edge-ny", max_concurrent=1, hosts=[host("ny01", 4, "2.18.1", "7.10.70.00")]
        ),
    ]
    fields: dict[str, object] = {
        "clusters": clusters,
        "target": TARGET,
        "global_max_concurrent": 3,
    }
    return PlanRequest.model_validate(fields | changes)


def test_example_plan_by_hand() -> None:
    plan = plan_rollout(example_request(), NOW)
    prod, edge = plan.clusters
    # fewest VMs first; esx02 is compliant and skipped.
    assert [h.name for h in prod.hosts] == ["esx04", "esx03", "esx01"]
    assert [(s.name, s.reason) for s in prod.skipped] == [
        ("esx02", "compliant: BIOS (159) 2.19.1, iDRAC (25227) 7.10.70.00 already at target")
    ]
    esx04, esx03, esx01 = prod.hosts
    # esx04: BIOS + iDRAC, 0 VMs = 57 min; esx03: BIOS, 5 VMs = 43 + 2.5 = 45.5 min;
    # esx01: BIOS + iDRAC, 12 VMs = 63 min.
    assert (esx04.estimate.total, esx03.estimate.total) == (57 * MIN, 45.5 * MIN)
    assert esx01.estimate.total == 63 * MIN
    # Two slots in prod-a: esx04 and esx03 start at once; esx01 takes the first free slot.
    assert (esx04.start, esx03.start, esx01.start) == (timedelta(0), timedelta(0), 45.5 * MIN)
    assert (esx04.wave, esx03.wave, esx01.wave) == (1, 1, 2)
    assert prod.finish == 108.5 * MIN and prod.waves == 2
    (ny01,) = edge.hosts
    assert (ny01.start, ny01.end) == (timedelta(0), 45 * MIN)
    assert [c.component_id for c in ny01.changes] == [BIOS]
    assert plan.makespan == 108.5 * MIN


def test_global_cap_gives_the_free_slot_to_the_critical_path() -> None:
    plan = plan_rollout(example_request(global_max_concurrent=1), NOW)
    starts = sorted((h.start, h.name) for h in plan.hosts)
    # Work left per slot: prod-a 165.5 / 2 = 82.75 > edge-ny 45, so prod-a goes first; after
    # esx04 and esx03 prod-a has 63 / 2 = 31.5 left per slot, so ny01 comes before esx01.
    assert [name for _, name in starts] == ["esx04", "esx03", "ny01", "esx01"]
    assert plan.makespan == (57 + 45.5 + 63 + 45) * MIN


def test_as_listed_keeps_the_operator_order() -> None:
    plan = plan_rollout(example_request(order="as_listed"), NOW)
    assert [h.name for h in plan.clusters[0].hosts] == ["esx01", "esx03", "esx04"]


def test_history_for_the_same_model_and_components_is_used() -> None:
    key = history_key("PowerEdge R650", [BIOS, IDRAC])
    plan = plan_rollout(example_request(history={key: [90 * MIN] * 5}), NOW)
    by_name = {h.name: h for h in plan.hosts}
    assert by_name["esx01"].estimate.total == 90 * MIN
    assert by_name["esx03"].estimate.total == 45.5 * MIN  # BIOS only: another key


def test_missing_inventory_missing_component_and_downgrade_are_reported() -> None:
    unknown = HostInventory(name="esx08", service_tag="ZZZ0008", components=[])
    bare = HostInventory(
        name="esx09",
        service_tag="ZZZ0009",
        components=[InstalledComponent(component_id="25806", version="4301X07")],
    )
    old = host("esx10", 1, "2.20.0", "7.10.70.00")
    cluster = ClusterInventory(name="lab", max_concurrent=1, hosts=[unknown, bare, old])
    plan = plan_rollout(
        PlanRequest(clusters=[cluster], target=TARGET, global_max_concurrent=1), NOW
    )
    assert [s.reason for s in plan.skipped] == [
        "no firmware inventory: collect the host's inventory, then plan again",
        "not installed: 159, 25227",
    ]
    (change,) = plan.hosts[0].changes
    assert change.downgrade and change.render() == "BIOS (159): 2.20.0 -> 2.19.1  (downgrade)"


def test_two_nics_with_one_component_id_update_once_if_any_differs() -> None:
    nics = HostInventory(
        name="esx11",
        service_tag="NIC0011",
        components=[
            InstalledComponent(component_id=NIC, version="22.00.6", name="NIC.Embedded.1-1-1"),
            InstalledComponent(component_id=NIC, version="21.80.9", name="NIC.Embedded.2-1-1"),
        ],
    )
    cluster = ClusterInventory(name="lab", max_concurrent=1, hosts=[nics])
    plan = plan_rollout(
        PlanRequest(clusters=[cluster], target={NIC: "22.00.6"}, global_max_concurrent=1), NOW
    )
    (change,) = plan.hosts[0].changes
    assert change.current == ["21.80.9"] and change.kind is ComponentKind.NIC


def test_render_text_reads_like_the_plan() -> None:
    text = plan_rollout(example_request(), NOW).render_text()
    assert text.splitlines()[:4] == [
        "Rollout plan (dry run, times in UTC)",
        "  4 hosts to update in 2 clusters, 1 skipped, 0 blocked; at most 3 hosts at once",
        "  order within a cluster: fewest VMs first, then host name",
        "  from Fri 2026-11-27 12:00: estimated makespan 1 h 49 min, done by Fri 2026-11-27 13:49"
        " (no maintenance windows: straight through)",
    ]
    assert "cluster prod-a: 3 to update, up to 2 at once, 2 waves, done after 1 h 49 min" in text
    assert "cluster edge-ny: 1 to update, up to 1 at once, 1 wave, done after 45 min" in text
    # esx01 starts at 12:45:30, shown rounded up like every time in the plan.
    assert (
        "  wave 2   Fri 2026-11-27 12:46 -> 13:49  esx01 [ESX0100] 12 VMs, 1 h 03 min"
        " (host reboot; components)" in text
    )
    assert "      iDRAC (25227): 7.00.00.00 -> 7.10.70.00" in text
    assert "  skipped  esx02 [ESX0200]: compliant:" in text


SAT_NIGHT = WeeklyWindow(
    timezone="Europe/Amsterdam", weekdays=["sat"], start="02:00", duration_minutes=100
)


def test_hosts_start_only_when_they_fit_the_window() -> None:
    # Sat 28 Nov 02:00-03:40 CET = 01:00Z-02:40Z, i.e. +13:00 to +14:40 from NOW.
    plan = plan_rollout(example_request(windows=[SAT_NIGHT]), NOW)
    prod, edge = plan.clusters
    esx04, esx03, esx01 = prod.hosts
    assert (esx04.start, esx03.start) == (13 * HOUR, 13 * HOUR)
    assert edge.hosts[0].start == 13 * HOUR
    # esx01 (63 min) could follow esx03 at +13:45.5 but would end after 02:40Z: next Saturday.
    assert esx01.start == 13 * HOUR + 7 * 24 * HOUR
    assert plan.makespan == esx01.end == 13 * HOUR + 7 * 24 * HOUR + 63 * MIN
    text = plan.render_text()
    assert "done by Sat 2026-12-05 02:03 (includes waiting for maintenance windows)" in text
    assert "  wave 2   Sat 2026-12-05 01:00 -> 02:03  esx01 [ESX0100]" in text


def test_hosts_longer_than_every_window_are_blocked_not_dropped() -> None:
    short = WeeklyWindow(timezone="UTC", weekdays=["sun"], start="01:00", duration_minutes=50)
    plan = plan_rollout(example_request(windows=[short]), NOW)
    prod = plan.clusters[0]
    assert [h.name for h in prod.hosts] == ["esx03"]  # 45.5 min fits; the others need 57, 63
    assert [b.name for b in prod.blocked] == ["esx04", "esx01"]
    assert prod.blocked[0].reason == (
        "outside window; no window in the next 400 days is long enough"
    )
    assert "  blocked  esx04 [ESX0400]: outside window; no window" in plan.render_text()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"global_max_concurrent": 0}, "global_max_concurrent", "greater than or equal to 1"),
        ({"target": {}}, "target", "at least 1 item"),
        ({"target": {"bad id!": "1"}}, "target", "should match pattern"),
        ({"history": {"k": [timedelta(0)]}}, "history", "'k': past durations must be positive"),
        ({"order": "random"}, "order", "'fewest_vms' or 'as_listed'"),
    ],
)
def test_bad_requests_name_the_field(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        example_request(**change)
    (error,) = caught.value.errors()
    assert error["loc"][0] == field and words in error["msg"]


def test_duplicate_hosts_across_clusters_are_rejected() -> None:
    twice = ClusterInventory(
        name="x", max_concurrent=1, hosts=[host("esx01", 0, "1", "1", tag="OTHER01")]
    )
    request = example_request()
    with pytest.raises(ValidationError, match="host names must be unique; repeated: esx01"):
        PlanRequest(clusters=[*request.clusters, twice], target=TARGET, global_max_concurrent=1)


# --- Properties

VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
IDS = [BIOS, IDRAC, NIC, "101560", "4242"]
maybe_version = st.sampled_from([None, *VERSIONS])
host_rows = st.tuples(
    st.integers(0, 3),  # cluster
    st.integers(0, 40),  # VMs
    st.tuples(*[maybe_version] * len(IDS)),  # installed version per component id, or absent
)


WINDOW_SETS = [
    [],
    [SAT_NIGHT],
    # An hour on weekend nights in New York: hosts needing more are blocked.
    [
        WeeklyWindow(
            timezone="America/New_York", weekdays=[5, 6], start="01:00", duration_minutes=60
        )
    ],
    [
        WeeklyWindow(timezone="UTC", weekdays=[0, 2, 4], start="20:00", duration_minutes=240),
        OneOffWindow(
            timezone="Asia/Kolkata", starts_at="2026-11-28T09:00", ends_at="2026-11-28T21:00"
        ),
    ],
]


@st.composite
def requests(draw: st.DrawFn) -> PlanRequest:
    targets = draw(st.tuples(*[maybe_version] * len(IDS)))
    target = {cid: v for cid, v in zip(IDS, targets, strict=True) if v} or {BIOS: "2.0.0"}
    caps = draw(st.tuples(*[st.integers(1, 4)] * 4))
    hosts: list[list[HostInventory]] = [[] for _ in caps]
    for serial, (cluster, vms, installed) in enumerate(draw(st.lists(host_rows, max_size=24))):
        components = [
            InstalledComponent(component_id=cid, version=v)
            for cid, v in zip(IDS, installed, strict=True)
            if v
        ]
        hosts[cluster].append(
            HostInventory(
                name=f"h{serial:03d}",
                service_tag=f"TAG{serial:04d}",
                vm_count=vms,
                components=components,
            )
        )
    return PlanRequest(
        clusters=[
            ClusterInventory(name=f"c{i}", max_concurrent=cap, hosts=members)
            for i, (cap, members) in enumerate(zip(caps, hosts, strict=True))
        ],
        target=target,
        global_max_concurrent=draw(st.integers(1, 6)),
        order=draw(st.sampled_from(["fewest_vms", "as_listed"])),
        windows=draw(st.sampled_from(WINDOW_SETS)),
    )


def needs_update(h: HostInventory, target: dict[str, str]) -> bool:
    return any(
        c.component_id in target and c.version != target[c.component_id] for c in h.components
    )


@settings(max_examples=200, deadline=None)
@given(request=requests())
def test_every_host_is_planned_skipped_or_blocked_exactly_once(request: PlanRequest) -> None:
    plan = plan_rollout(request, NOW)
    planned = [h.name for h in plan.hosts]
    blocked = [b.name for b in plan.blocked]
    skipped = [s.name for s in plan.skipped]
    everyone = {h.name for c in request.clusters for h in c.hosts}
    expected = {
        h.name for c in request.clusters for h in c.hosts if needs_update(h, request.target)
    }
    assert len(planned) + len(blocked) == len(set(planned) | set(blocked))
    assert set(planned) | set(blocked) == expected
    assert len(skipped) == len(set(skipped)) and set(skipped) == everyone - expected
    if not request.windows:
        assert blocked == []


@settings(max_examples=200, deadline=None)
@given(request=requests())
def test_the_plan_never_exceeds_concurrency_nor_the_windows(request: PlanRequest) -> None:
    plan = plan_rollout(request, NOW)
    caps = {c.name: c.max_concurrent for c in request.clusters}
    for instant in {h.start for h in plan.hosts}:
        active = [h for h in plan.hosts if h.start <= instant < h.end]
        assert len(active) <= request.global_max_concurrent
        for name, cap in caps.items():
            assert sum(h.cluster == name for h in active) <= cap
    for h in plan.hosts:
        assert fits(request.windows, NOW + h.start, h.estimate.total)
    for b in plan.blocked:  # blocked only when waiting would never help
        assert wait_reason(request.windows, NOW, b.estimate.total)[:2] == (False, None)


@settings(max_examples=200, deadline=None)
@given(request=requests())
def test_schedule_is_sound_and_reasonably_tight(request: PlanRequest) -> None:
    plan = plan_rollout(request, NOW)
    assert plan == plan_rollout(request, NOW)  # deterministic
    total = sum((h.estimate.total for h in plan.hosts), timedelta(0))
    for cluster, ask in zip(plan.clusters, request.clusters, strict=True):
        hosts = cluster.hosts
        # The cluster's order is the start order, and each host runs for its estimate.
        assert [h.start for h in hosts] == sorted(h.start for h in hosts)
        assert all(h.end - h.start == h.estimate.total for h in hosts)
        assert all(
            h.estimate == estimate_host([c.kind for c in h.changes], h.vm_count) for h in hosts
        )
        work = sum((h.estimate.total for h in hosts), timedelta(0))
        assert cluster.finish >= work / ask.max_concurrent
        if request.order == "fewest_vms":
            assert [h.vm_count for h in hosts] == sorted(h.vm_count for h in hosts)
    if plan.hosts:
        longest = max(h.estimate.total for h in plan.hosts)
        assert plan.makespan >= max(longest, total / request.global_max_concurrent)
        if not request.windows:  # work-conserving: never worse than one host at a time
            assert plan.makespan <= total
    else:
        assert plan.makespan == timedelta(0)


def test_plan_round_trips_as_json() -> None:
    plan = plan_rollout(example_request(), NOW)
    assert RolloutPlan.model_validate_json(plan.model_dump_json()) == plan
