"""Compliance of a host with a baseline: every state, the filters, and the rollup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.baseline import BaselineFilters, BaselineScope
from domain.catalog import CatalogComponent, Criticality, SupportedDevice, SupportedSystem
from domain.compliance import (
    SEVERITY,
    HostFacts,
    Installed,
    State,
    evaluate_host,
    rollup,
)

R650, R750 = "0912", "0A6B"


def package(
    component_id: str,
    version: str,
    systems: tuple[str, ...] = (R650,),
    criticality: int = 1,
    component_type: str = "FRMW",
) -> CatalogComponent:
    return CatalogComponent(
        kind="software",
        line=1,
        path=f"FOLDER1/1/{component_id}_{version}.EXE",
        vendor_version=version,
        component_type=component_type,
        criticality=Criticality.of(criticality, None),
        reboot_required=True,
        devices=(SupportedDevice(component_id, True),),
        systems=tuple(SupportedSystem(s) for s in systems),
    )


def facts(*firmware: tuple[str, str], system_id: str | None = "0x0912") -> HostFacts:
    return HostFacts(
        server_id=1,
        service_tag="ABC1234",
        name="esx01",
        cluster="prod",
        system_id=system_id,
        firmware=[Installed(component_id=c, name=f"part {c}", version=v) for c, v in firmware]
        or None,
    )


CATALOG = list(
    enumerate(
        [
            package("159", "2.13.0", component_type="BIOS"),
            package("25227", "7.10.30.00", criticality=2),
            package("101560", "52.16.1-4405", criticality=3),
            package("108255", "22.5.7", systems=(R750,)),
        ],
        start=1,
    )
)
NONE = BaselineFilters()


def states(report_facts: HostFacts, filters: BaselineFilters = NONE) -> dict[str, State]:
    report = evaluate_host(report_facts, CATALOG, filters)
    return {c.component_id: c.state for c in report.components}


def test_each_component_gets_its_state() -> None:
    host = facts(
        ("159", "2.13.0"),  # the baseline's version
        ("25227", "7.00.00.00"),  # older
        ("101560", "52.20.0-1"),  # newer than the baseline
        ("108255", "22.0.0"),  # only packaged for the R750
        ("9999", "1.0"),  # not in the catalog at all
    )
    assert states(host) == {
        "159": State.COMPLIANT,
        "25227": State.UPGRADE,
        "101560": State.DOWNGRADE,
        "108255": State.NOT_APPLICABLE,
        "9999": State.NOT_APPLICABLE,
    }
    report = evaluate_host(host, CATALOG, NONE)
    assert report.state is State.DOWNGRADE
    upgrade = next(c for c in report.components if c.component_id == "25227")
    assert upgrade.target == "7.10.30.00" and upgrade.reason == "7.00.00.00 -> 7.10.30.00"
    assert upgrade.package is not None and upgrade.package.seq == 2


def test_a_host_without_inventory_or_system_id_is_unknown() -> None:
    assert evaluate_host(facts(), CATALOG, NONE).state is State.UNKNOWN
    no_system = evaluate_host(facts(("159", "2.0.0"), system_id=None), CATALOG, NONE)
    assert no_system.state is State.UNKNOWN and "SystemID" in no_system.reason


def test_trailing_zero_fields_are_the_same_version() -> None:
    assert states(facts(("25227", "7.10.30")))["25227"] is State.COMPLIANT


def test_filters_narrow_the_catalog_and_say_why() -> None:
    host = facts(("159", "2.0.0"), ("25227", "7.00.00.00"), ("101560", "52.0.0-1"))
    urgent = BaselineFilters(criticality=[2])
    assert states(host, urgent) == {
        "159": State.NOT_APPLICABLE,
        "25227": State.UPGRADE,
        "101560": State.NOT_APPLICABLE,
    }
    report = evaluate_host(host, CATALOG, urgent)
    bios = next(c for c in report.components if c.component_id == "159")
    assert "filtered out" in bios.reason
    assert states(host, BaselineFilters(component_types=["BIOS"]))["159"] is State.UPGRADE
    excluded = evaluate_host(host, CATALOG, BaselineFilters(exclusions=["25227"]))
    idrac = next(c for c in excluded.components if c.component_id == "25227")
    assert idrac.state is State.NOT_APPLICABLE and idrac.reason == "excluded by the baseline"


def test_a_pin_holds_a_component_at_a_catalog_version() -> None:
    catalog = [*CATALOG, (5, package("159", "2.12.0", component_type="BIOS"))]
    pinned = BaselineFilters(pinned={"159": "2.12.0"})
    report = evaluate_host(facts(("159", "2.13.0")), catalog, pinned)
    [bios] = report.components
    assert (bios.state, bios.target) == (State.DOWNGRADE, "2.12.0")
    missing = evaluate_host(facts(("159", "2.13.0")), catalog, BaselineFilters(pinned={"159": "9"}))
    assert "pinned to 9" in missing.components[0].reason


def test_an_empty_scope_is_the_fleet_and_a_scope_is_a_union() -> None:
    assert BaselineScope().covers(None, None, ("x",))
    scope = BaselineScope(clusters=["prod"], hosts=["ABC1234"])
    assert scope.covers("ams", "prod", ("esx9",))
    assert scope.covers(None, None, ("esx9", "ABC1234"))
    assert not scope.covers("ams", "test", ("esx9", "ZZZ9999"))


@given(st.lists(st.sampled_from(list(State)), max_size=8))
def test_the_host_state_is_its_worst_component(component_states: list[State]) -> None:
    state = rollup(component_states)
    if not component_states:
        assert state is State.NOT_APPLICABLE
    else:
        assert state in component_states
        assert all(SEVERITY.index(state) <= SEVERITY.index(s) for s in component_states)


VERSIONS = st.tuples(st.integers(0, 9), st.integers(0, 20), st.integers(0, 20)).map(
    lambda t: ".".join(map(str, t))
)


@given(VERSIONS, VERSIONS)
def test_a_component_is_compliant_exactly_when_its_version_equals_the_baseline(
    installed: str, target: str
) -> None:
    catalog = [(1, package("159", target))]
    [bios] = evaluate_host(facts(("159", installed)), catalog, NONE).components
    as_tuple = [tuple(map(int, v.split("."))) for v in (installed, target)]
    expected = (
        State.COMPLIANT
        if as_tuple[0] == as_tuple[1]
        else State.UPGRADE
        if as_tuple[0] < as_tuple[1]
        else State.DOWNGRADE
    )
    assert bios.state is expected
