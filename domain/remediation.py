"""What remediating a baseline takes: which hosts, which packages, in which order.

Built from a fresh compliance evaluation, with no I/O. Rules (README, "Remediation"):
- A host is remediated for its ``upgrade`` components, and its ``downgrade`` ones only when
  the baseline allows downgrades. Hosts needing nothing (or only refused downgrades, or
  whose inventory is unknown) are listed as skipped, with the reason.
- A campaign installs one version per component id on every host it targets, whatever
  model the host is. So hosts are grouped by SystemID (one campaign each): Dell packages
  are per model, and the same component id (BIOS 159) has another package on another one.
- A host whose group installs a version of a component the baseline does not want there
  (it runs a newer one and downgrades are not allowed, say) is held out, with the reason:
  the campaign would otherwise change it against its baseline.
- Each host's packages are listed in the install order of :mod:`domain.install_order`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pydantic import BaseModel, ConfigDict

from domain.applicability import system_id_key
from domain.compliance import ComponentCompliance, HostCompliance, State
from domain.install_order import Installable, install_order


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Target(_Frozen):
    """One package the group's campaign installs."""

    component_id: str
    version: str
    catalog_seq: int
    catalog_path: str
    reboot_required: bool | None


class Step(_Frozen):
    stage: int
    text: str
    components: list[str]


class HostPlan(_Frozen):
    server_id: int
    service_tag: str
    name: str
    cluster: str | None
    changes: list[ComponentCompliance]
    steps: list[Step]


class Skipped(_Frozen):
    service_tag: str
    name: str
    cluster: str | None
    reason: str


class Group(_Frozen):
    """The hosts of one SystemID: one campaign."""

    system_id: str
    targets: list[Target]
    hosts: list[HostPlan]


class Remediation(_Frozen):
    groups: list[Group]
    skipped: list[Skipped]


def _wanted(host: HostCompliance, allow_downgrade: bool) -> list[ComponentCompliance]:
    allowed = {State.UPGRADE, State.DOWNGRADE} if allow_downgrade else {State.UPGRADE}
    return [c for c in host.components if c.state in allowed and c.package is not None]


def _skip(host: HostCompliance, reason: str) -> Skipped:
    return Skipped(
        service_tag=host.service_tag, name=host.name, cluster=host.cluster, reason=reason
    )


def _nothing_reason(host: HostCompliance) -> str:
    if host.state is State.UNKNOWN:
        return f"unknown: {host.reason}"
    if host.state is State.DOWNGRADE:
        return "only downgrades, which the baseline does not allow"
    return f"{host.state.value.replace('_', ' ')}: nothing to install"


def _target(change: ComponentCompliance) -> Target:
    assert change.package is not None and change.target is not None
    return Target(
        component_id=change.component_id,
        version=change.target,
        catalog_seq=change.package.seq,
        catalog_path=change.package.path,
        reboot_required=change.package.reboot_required,
    )


def _steps(changes: Sequence[ComponentCompliance]) -> list[Step]:
    items = [
        Installable(
            component_id=c.component_id,
            version=c.target or "",
            component_type=c.package.component_type if c.package else None,
            reboot_required=c.package.reboot_required if c.package else None,
        )
        for c in changes
    ]
    return [
        Step(stage=int(s.stage), text=s.text, components=[i.component_id for i in s.items])
        for s in install_order(items)
    ]


def _conflict(host: HostCompliance, targets: dict[str, Target], allow: bool) -> str | None:
    """Why installing the group's targets would take this host off its baseline, if so."""
    wanted = {c.component_id for c in _wanted(host, allow)}
    for component in host.components:
        target = targets.get(component.component_id)
        if target is None or component.component_id in wanted:
            continue
        if component.installed != [target.version]:
            return (
                f"the campaign for its SystemID installs {component.component_id} "
                f"{target.version}, which this host must not get ({component.state.value}: "
                f"{component.reason}); remediate it on its own"
            )
    return None


def plan_remediation(
    hosts: Sequence[HostCompliance],
    allow_downgrade: bool,
    selected: Collection[str] | None = None,
) -> Remediation:
    """The groups and skipped hosts (rules in the module doc); ``selected`` names hosts by
    ESXi name or service tag, None means every host off its baseline."""
    chosen: dict[str, list[tuple[HostCompliance, list[ComponentCompliance]]]] = {}
    skipped = []
    for host in hosts:
        if selected is not None and not ({host.name, host.service_tag} & set(selected)):
            continue
        wanted = _wanted(host, allow_downgrade)
        if not wanted:
            skipped.append(_skip(host, _nothing_reason(host)))
            continue
        chosen.setdefault(system_id_key(host.system_id or ""), []).append((host, wanted))
    groups = []
    for system_id in sorted(chosen):
        members = chosen[system_id]
        targets: dict[str, Target] = {}
        for _, wanted in members:
            for change in wanted:
                targets.setdefault(change.component_id, _target(change))
        plans = []
        for host, wanted in members:
            reason = _conflict(host, targets, allow_downgrade)
            if reason is not None:
                skipped.append(_skip(host, reason))
                continue
            order = _steps(wanted)
            rank = {cid: n for n, step in enumerate(order) for cid in step.components}
            plans.append(
                HostPlan(
                    server_id=host.server_id,
                    service_tag=host.service_tag,
                    name=host.name,
                    cluster=host.cluster,
                    changes=sorted(wanted, key=lambda c: (rank[c.component_id], c.component_id)),
                    steps=order,
                )
            )
        used = {c.component_id for plan in plans for c in plan.changes}
        if plans:
            groups.append(
                Group(
                    system_id=system_id,
                    targets=[targets[cid] for cid in sorted(used)],
                    hosts=plans,
                )
            )
    return Remediation(groups=groups, skipped=skipped)
