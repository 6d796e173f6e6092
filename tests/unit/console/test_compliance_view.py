"""The compliance grid's counts per cluster and component, and a dry run's reboots."""

from __future__ import annotations

from console.compliance_view import NO_CLUSTER, grid, reboots
from domain.compliance import ComponentCompliance, HostCompliance, State
from domain.remediation import HostPlan, Step


def component(cid: str, name: str, state: State) -> ComponentCompliance:
    return ComponentCompliance(
        component_id=cid, name=name, installed=["1"], target="2", state=state, reason=""
    )


def host(tag: str, cluster: str | None, *components: ComponentCompliance) -> HostCompliance:
    states = [c.state for c in components]
    return HostCompliance(
        server_id=hash(tag) % 1000,
        service_tag=tag,
        name=tag,
        datacenter=None,
        cluster=cluster,
        model=None,
        system_id="0912" if components else None,
        state=State.UNKNOWN if not components else max(states, key=list(State).index),
        reason="",
        components=list(components),
    )


def test_cells_count_hosts_per_state_and_unknown_hosts_count_in_every_column() -> None:
    bios, nic = "159", "108255"
    laid_out = grid(
        [
            host("A1", "alpha", component(bios, "BIOS", State.UPGRADE)),
            host(
                "A2",
                "alpha",
                component(bios, "BIOS", State.COMPLIANT),
                component(nic, "Broadcom NIC", State.DOWNGRADE),
            ),
            host("A3", "alpha"),  # no inventory
            host("L1", None, component(bios, "BIOS", State.NOT_APPLICABLE)),
        ]
    )
    assert laid_out.components == [(bios, "BIOS"), (nic, "Broadcom NIC")]
    alpha, loose = laid_out.rows
    assert (alpha.cluster, loose.cluster) == ("alpha", NO_CLUSTER)
    bios_cell, nic_cell = alpha.cells
    assert bios_cell.listed == [(State.COMPLIANT, 1), (State.UPGRADE, 1), (State.UNKNOWN, 1)]
    assert bios_cell.worst is State.UNKNOWN
    assert nic_cell.listed == [(State.DOWNGRADE, 1), (State.UNKNOWN, 1)]
    assert alpha.hosts.counts[State.UNKNOWN] == 1
    assert loose.cells[1].listed == []  # no NIC there: nothing to count
    assert loose.cells[1].worst is None


def test_a_cell_of_upgrades_and_compliant_is_as_bad_as_its_worst() -> None:
    laid_out = grid(
        [
            host("B1", "bravo", component("159", "BIOS", State.UPGRADE)),
            host("B2", "bravo", component("159", "BIOS", State.COMPLIANT)),
        ]
    )
    assert laid_out.rows[0].cells[0].worst is State.UPGRADE


def test_reboots_are_the_host_reboot_and_power_cycle_steps() -> None:
    steps = [
        Step(stage=1, text="iDRAC", components=["25227"]),
        Step(stage=2, text="at once", components=["x"]),
        Step(stage=3, text="reboot", components=["159"]),
        Step(stage=4, text="CPLD", components=["c"]),
    ]
    plan = HostPlan(server_id=1, service_tag="T", name="T", cluster=None, changes=[], steps=steps)
    assert reboots(plan) == 2
    assert reboots(plan.model_copy(update={"steps": steps[:2]})) == 0
