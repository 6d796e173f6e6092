"""Summaries, drift between evaluations, and the flat CSV rows of a compliance report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.compliance import OFF_BASELINE, ComponentCompliance, HostCompliance, State
from domain.compliance_report import CSV_COLUMNS, by_cluster, csv_rows, drift, summarize

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def host(
    name: str, state: State, cluster: str | None = "prod", installed: str = "2.13.0"
) -> HostCompliance:
    components = (
        []
        if state is State.UNKNOWN
        else [
            ComponentCompliance(
                component_id="159",
                name="BIOS",
                installed=[installed],
                target="2.13.0",
                state=state,
                reason="r",
            )
        ]
    )
    return HostCompliance(
        server_id=hash(name) % 1000,
        service_tag=name.upper()[:7].ljust(7, "X"),
        name=name,
        datacenter="ams",
        cluster=cluster,
        model=None,
        system_id="0912",
        state=state,
        reason="r",
        components=components,
    )


def test_summaries_count_hosts_and_components_per_state_and_cluster() -> None:
    hosts = [
        host("a", State.COMPLIANT),
        host("b", State.UPGRADE, installed="2.0.0"),
        host("c", State.UNKNOWN),
        host("d", State.COMPLIANT, cluster="test"),
    ]
    fleet = summarize(hosts)
    assert fleet.hosts == 4
    assert fleet.host_states[State.COMPLIANT] == 2 and fleet.host_states[State.UPGRADE] == 1
    assert fleet.compliant_pct == round(100 * 2 / 3, 1)  # unknown hosts are not counted
    assert [(c.cluster, c.hosts) for c in by_cluster(hosts)] == [("prod", 3), ("test", 1)]


def test_drift_starts_when_a_host_leaves_its_baseline_and_names_what_changed() -> None:
    on = host("a", State.COMPLIANT)
    off = host("a", State.UPGRADE, installed="2.0.0")
    first = drift(on, None, off, T0)
    assert first.off and first.off_since == T0
    [change] = first.changes
    assert (change.installed_before, change.installed_now) == (["2.13.0"], ["2.0.0"])
    assert (change.state_before, change.state_now) == (State.COMPLIANT, State.UPGRADE)
    later = drift(off, first, off, T0 + timedelta(days=1))
    assert later == first  # still off: since the first time, for the same reason
    back = drift(off, later, on, T0 + timedelta(days=2))
    assert not back.off and back.off_since is None


def test_csv_rows_are_one_per_host_and_component() -> None:
    rows = list(csv_rows([host("a", State.COMPLIANT), host("c", State.UNKNOWN)]))
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert rows[0][CSV_COLUMNS.index("component_id")] == "159"
    assert rows[1][CSV_COLUMNS.index("state")] == "unknown"


@given(st.lists(st.sampled_from([State.COMPLIANT, State.UPGRADE, State.DOWNGRADE]), min_size=1))
def test_off_since_is_the_start_of_the_current_off_stretch(states: list[State]) -> None:
    previous, moved = None, None
    for day, state in enumerate(states):
        now = host("a", state, installed=f"2.{day}.0")
        moved = drift(previous, moved, now, T0 + timedelta(days=day))
        previous = now
    assert moved is not None
    stretch = 0
    while stretch < len(states) and states[len(states) - 1 - stretch] in OFF_BASELINE:
        stretch += 1
    if stretch == 0:
        assert not moved.off and moved.off_since is None
    else:
        assert moved.off and moved.off_since == T0 + timedelta(days=len(states) - stretch)
