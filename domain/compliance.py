"""Compliance of one host with a baseline, per installed component, as a pure function.

States (docs in README, "Baselines and compliance"):
- ``compliant``: every device of the component runs the baseline's version;
- ``upgrade``: some device runs an older version; none a newer one;
- ``downgrade``: some device runs a newer version than the baseline, or one Dell's formats
  cannot order against it (remediation takes it back only where the baseline allows it);
- ``not_applicable``: the baseline has no package for it (none in the catalog for this
  SystemID, filtered out, excluded, or no package of the pinned version);
- ``unknown``: the host has no firmware inventory (or no SystemID), so nothing is known.

A host's own state is its worst component's: unknown, downgrade, upgrade, compliant,
not_applicable, in that order. What applies is decided by :mod:`domain.applicability`
(identifiers only) on the catalog narrowed by the baseline's filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.applicability import (
    Decision,
    Host,
    InstalledDevice,
    decide,
    supports_system,
    system_id_key,
    targets,
)
from domain.baseline import BaselineFilters
from domain.catalog import CatalogComponent
from domain.dell_version import Change, compare


class State(StrEnum):
    COMPLIANT = "compliant"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


SEVERITY = (State.UNKNOWN, State.DOWNGRADE, State.UPGRADE, State.COMPLIANT, State.NOT_APPLICABLE)
OFF_BASELINE = frozenset({State.UPGRADE, State.DOWNGRADE})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Installed(_Frozen):
    """One firmware inventory entry (a component id repeats once per device)."""

    component_id: str
    name: str = ""
    version: str


class HostFacts(_Frozen):
    """What the store knows of one host in scope."""

    server_id: int
    service_tag: str
    name: str = Field(description="ESXi host name, or the service tag when there is none")
    datacenter: str | None = None
    cluster: str | None = None
    model: str | None = None
    system_id: str | None = None
    firmware: list[Installed] | None = None


class PackageRef(_Frozen):
    """The catalog package a component is measured against."""

    seq: int = Field(description="the package's position in its catalog")
    path: str
    package_id: str | None
    component_type: str | None
    criticality: int | None
    reboot_required: bool | None


class ComponentCompliance(_Frozen):
    component_id: str
    name: str
    installed: list[str]
    target: str | None
    state: State
    reason: str
    package: PackageRef | None = None


class HostCompliance(_Frozen):
    server_id: int
    service_tag: str
    name: str
    datacenter: str | None
    cluster: str | None
    model: str | None
    system_id: str | None
    state: State
    reason: str
    components: list[ComponentCompliance]


Catalog = Sequence[tuple[int, CatalogComponent]]
"""A catalog's components with their positions (``seq``) in it."""


def rollup(states: Sequence[State]) -> State:
    """The host's state: its worst component's; a host with none is not applicable."""
    for state in SEVERITY:
        if state in states:
            return state
    return State.NOT_APPLICABLE


def _kept(component: CatalogComponent, filters: BaselineFilters) -> bool:
    """Whether the baseline's criticality, type and pin filters keep this package."""
    critical = component.criticality.value if component.criticality else None
    if filters.criticality and critical not in filters.criticality:
        return False
    if filters.component_types and component.component_type not in filters.component_types:
        return False
    for device in component.devices:
        pin = filters.pinned.get(device.component_id)
        if pin is not None and compare(component.vendor_version, pin) != 0:
            return False
    return True


def _state(changes: Sequence[Change]) -> State:
    if all(c is Change.SAME for c in changes):
        return State.COMPLIANT
    if any(c in (Change.DOWNGRADE, Change.UNORDERED) for c in changes):
        return State.DOWNGRADE
    return State.UPGRADE


def _unknown(facts: HostFacts, reason: str) -> HostCompliance:
    return _host(facts, State.UNKNOWN, reason, [])


def _host(
    facts: HostFacts, state: State, reason: str, components: list[ComponentCompliance]
) -> HostCompliance:
    return HostCompliance(
        server_id=facts.server_id,
        service_tag=facts.service_tag,
        name=facts.name,
        datacenter=facts.datacenter,
        cluster=facts.cluster,
        model=facts.model,
        system_id=facts.system_id,
        state=state,
        reason=reason,
        components=components,
    )


def _ref(seq: int, component: CatalogComponent) -> PackageRef:
    return PackageRef(
        seq=seq,
        path=component.path,
        package_id=component.package_id,
        component_type=component.component_type,
        criticality=component.criticality.value if component.criticality else None,
        reboot_required=component.reboot_required,
    )


def evaluate_host(facts: HostFacts, catalog: Catalog, filters: BaselineFilters) -> HostCompliance:
    """The host's compliance with the baseline (rules in the module doc)."""
    if not facts.firmware:
        return _unknown(facts, "no firmware inventory: run an inventory sweep")
    if facts.system_id is None:
        return _unknown(facts, "no Dell SystemID in the inventory")
    try:
        system = system_id_key(facts.system_id)
    except ValueError as exc:
        return _unknown(facts, str(exc))
    seqs = {id(c): seq for seq, c in catalog}
    for_system = [c for _, c in catalog if c.kind == "software" and supports_system(c, system)]
    excluded = set(filters.exclusions)
    devices = tuple(
        InstalledDevice(f.component_id, f.version)
        for f in facts.firmware
        if f.component_id not in excluded
    )
    kept = [c for c in for_system if _kept(c, filters)]
    decided = {d.devices[0].component_id: d for d in decide(Host(system, devices), kept, True)}
    components = []
    for component_id in sorted({f.component_id for f in facts.firmware}):
        entries = [f for f in facts.firmware if f.component_id == component_id]
        decision = decided.get(component_id)
        if decision is not None:
            components.append(_measured(component_id, entries, decision, seqs))
            continue
        reason = _why_not(component_id, entries, for_system, filters)
        components.append(_component(component_id, entries, None, State.NOT_APPLICABLE, reason))
    state = rollup([c.state for c in components])
    off = sum(c.state in OFF_BASELINE for c in components)
    reason = f"{off} component(s) off the baseline" if off else f"{state.value.replace('_', ' ')}"
    return _host(facts, state, reason, components)


def _component(
    component_id: str,
    entries: Sequence[Installed],
    target: str | None,
    state: State,
    reason: str,
    package: PackageRef | None = None,
) -> ComponentCompliance:
    return ComponentCompliance(
        component_id=component_id,
        name=next((e.name for e in entries if e.name), ""),
        installed=sorted({e.version for e in entries}),
        target=target,
        state=state,
        reason=reason,
        package=package,
    )


def _measured(
    component_id: str, entries: Sequence[Installed], decision: Decision, seqs: dict[int, int]
) -> ComponentCompliance:
    chosen = decision.component
    state = _state(decision.changes)
    installed = ", ".join(sorted({d.version for d in decision.devices}))
    reason = {
        State.COMPLIANT: f"runs {chosen.vendor_version}",
        State.UPGRADE: f"{installed} -> {chosen.vendor_version}",
        State.DOWNGRADE: f"{installed} is newer than {chosen.vendor_version} (or not comparable)",
    }[state]
    ref = _ref(seqs[id(chosen)], chosen)
    return _component(component_id, entries, chosen.vendor_version, state, reason, ref)


def _why_not(
    component_id: str,
    entries: Sequence[Installed],
    for_system: Sequence[CatalogComponent],
    filters: BaselineFilters,
) -> str:
    if component_id in filters.exclusions:
        return "excluded by the baseline"
    device = InstalledDevice(component_id, entries[0].version)
    if not any(targets(c, device) for c in for_system):
        return "no package in the catalog for this component and SystemID"
    pin = filters.pinned.get(component_id)
    if pin is not None:
        return f"pinned to {pin}: the catalog has no package of that version"
    return "filtered out by the baseline's criticality or component type filters"
