"""Remediation of a baseline: which hosts, grouped per SystemID, packages in install order,
and hosts the campaign would wrongly change held out."""

from __future__ import annotations

from domain.compliance import ComponentCompliance, HostCompliance, PackageRef, State
from domain.remediation import plan_remediation

IDRAC, BIOS, NIC = "25227", "159", "108255"


def part(
    component_id: str, installed: str, target: str | None, state: State
) -> ComponentCompliance:
    package = (
        PackageRef(
            seq=int(component_id) % 97,
            path=f"F/{component_id}_{target}.EXE",
            package_id=None,
            component_type="BIOS" if component_id == BIOS else "FRMW",
            criticality=1,
            reboot_required=component_id != IDRAC,
        )
        if target
        else None
    )
    return ComponentCompliance(
        component_id=component_id,
        name=component_id,
        installed=[installed],
        target=target,
        state=state,
        reason="r",
        package=package,
    )


def host(name: str, *parts: ComponentCompliance, system_id: str = "0912") -> HostCompliance:
    states = [p.state for p in parts]
    state = (
        State.UNKNOWN
        if not parts
        else State.DOWNGRADE
        if State.DOWNGRADE in states
        else State.UPGRADE
        if State.UPGRADE in states
        else State.COMPLIANT
    )
    return HostCompliance(
        server_id=hash(name) % 10_000,
        service_tag=name.upper().ljust(7, "0")[:7],
        name=name,
        datacenter="ams",
        cluster="prod",
        model=None,
        system_id=system_id,
        state=state,
        reason="no firmware inventory" if not parts else "r",
        components=list(parts),
    )


def test_packages_are_listed_in_install_order_with_idrac_first() -> None:
    plan = plan_remediation(
        [
            host(
                "a",
                part(BIOS, "2.10.0", "2.13.0", State.UPGRADE),
                part(IDRAC, "7.00", "7.10", State.UPGRADE),
            )
        ],
        allow_downgrade=False,
    )
    [group] = plan.groups
    [a] = group.hosts
    assert [c.component_id for c in a.changes] == [IDRAC, BIOS]
    assert [s.components for s in a.steps] == [[IDRAC], [BIOS]]
    assert {t.component_id: t.version for t in group.targets} == {IDRAC: "7.10", BIOS: "2.13.0"}


def test_hosts_are_grouped_per_system_id_and_compliant_ones_skipped() -> None:
    plan = plan_remediation(
        [
            host("a", part(BIOS, "2.10.0", "2.13.0", State.UPGRADE)),
            host("b", part(BIOS, "1.2.0", "1.5.0", State.UPGRADE), system_id="0A6B"),
            host("c", part(BIOS, "2.13.0", "2.13.0", State.COMPLIANT)),
            host("d"),
        ],
        allow_downgrade=False,
    )
    assert [(g.system_id, [h.name for h in g.hosts]) for g in plan.groups] == [
        ("0912", ["a"]),
        ("0A6B", ["b"]),
    ]
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons["c"].startswith("compliant") and reasons["d"].startswith("unknown")


def test_downgrades_only_when_allowed_and_never_by_a_neighbour() -> None:
    hosts = [
        host("a", part(BIOS, "2.10.0", "2.13.0", State.UPGRADE)),
        host(
            "b",
            part(BIOS, "2.14.0", "2.13.0", State.DOWNGRADE),
            part(NIC, "22.0", "22.5", State.UPGRADE),
        ),
    ]
    refused = plan_remediation(hosts, allow_downgrade=False)
    assert [h.name for g in refused.groups for h in g.hosts] == ["a"]
    [held] = refused.skipped
    assert held.name == "b" and "must not get" in held.reason
    allowed = plan_remediation(hosts, allow_downgrade=True)
    assert [h.name for g in allowed.groups for h in g.hosts] == ["a", "b"]


def test_a_selection_limits_the_hosts() -> None:
    hosts = [host(n, part(BIOS, "2.10.0", "2.13.0", State.UPGRADE)) for n in ("a", "b", "c")]
    plan = plan_remediation(hosts, allow_downgrade=False, selected={"b", hosts[2].service_tag})
    assert [h.name for h in plan.groups[0].hosts] == ["b", "c"]
