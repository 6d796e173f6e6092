"""Where each VM goes when the orchestrator moves VMs itself (DRS not fully automated).

Pure: VMs, hosts with their capacity and load, and the cluster's rules in; moves, or
the VMs that cannot move with the reason, out. The same planner places VMs leaving a
host for maintenance and VMs coming back to it afterwards, so both obey the same rules:

- a VM never goes to a host that is unavailable, a dedicated HA failover host, a host
  that does not mount all its datastores, or one a mandatory VM-host rule forbids;
  a PCI passthrough device keeps a VM where it is;
- VMs of an enabled VM-VM affinity rule move together (to the host where the rest of
  the group runs, if it runs elsewhere); an anti-affinity rule keeps members apart;
- a host takes VMs only while their demand stays within its headroom: the policy's
  utilisation cap, less the share HA percentage admission control reserves (applied
  per host, so every survivor keeps its part of the failover capacity);
- "should" VM-host rules are preferences: a host that honours more of them wins.

Demand is counted as in domain/capacity.py (CPU: max(reservation, usage); memory:
max(reservation, configured size)). Larger groups are placed first, each on the host
with the most free memory left: deterministic whatever the order of the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VmToMove(_Frozen):
    name: str
    host: str = Field(description="where it runs now")
    cpu_mhz: int = Field(ge=0)
    memory_mb: int = Field(ge=0)
    passthrough: bool = False
    storage_hosts: frozenset[str] | None = Field(
        default=None, description="hosts that mount every datastore of the VM; None: all"
    )


class PlacementHost(_Frozen):
    name: str
    cpu_mhz: int = Field(ge=0, description="cores x MHz")
    memory_mb: int = Field(ge=0)
    used_cpu_mhz: int = Field(default=0, ge=0, description="demand of its powered-on VMs")
    used_memory_mb: int = Field(default=0, ge=0)
    vms: frozenset[str] = Field(default=frozenset(), description="its powered-on VMs")
    accepts_vms: bool = Field(description="connected, not in maintenance, not being emptied")
    ha_failover: bool = Field(default=False, description="dedicated HA failover host")


class VmHostRule(_Frozen):
    name: str
    vms: frozenset[str]
    hosts: frozenset[str]
    affine: bool = Field(description="True: run on these hosts; False: never on them")
    mandatory: bool = Field(description="must (a hard rule) or should (a preference)")


class VmVmRule(_Frozen):
    name: str
    vms: frozenset[str]
    together: bool = Field(description="True: affinity; False: anti-affinity")


class Headroom(_Frozen):
    max_utilization_percent: int = Field(default=100, ge=1, le=100)
    cpu_reserved_percent: int = Field(default=0, ge=0, le=100, description="HA percentage")
    memory_reserved_percent: int = Field(default=0, ge=0, le=100)


class Unmovable(_Frozen):
    vm: str
    reason: str

    def __str__(self) -> str:
        return self.reason


class MovePlan(_Frozen):
    moves: dict[str, str] = Field(description="VM name -> host it goes to")
    unmovable: list[Unmovable] = Field(description="VMs that stay, each with its reason")


def why_stuck(
    vm: VmToMove, hosts: Sequence[PlacementHost], rules: Sequence[VmHostRule], cluster: str
) -> str | None:
    """Why no host other than its own could ever run ``vm``, whatever their load; None if
    one could. These are the reasons vSphere itself refuses a migration for."""
    if vm.passthrough:
        return f"VM {vm.name} has a PCI passthrough device and cannot be migrated"
    others = {h.name for h in hosts if h.name != vm.host}
    reachable = others if vm.storage_hosts is None else others & vm.storage_hosts
    if not reachable:
        return f"VM {vm.name} is on storage no other host of {cluster} mounts (local storage)"
    for rule in rules:
        if not (rule.mandatory and vm.name in rule.vms):
            continue
        reachable = reachable & rule.hosts if rule.affine else reachable - rule.hosts
        if not reachable and rule.affine:
            pinned = ", ".join(sorted(rule.hosts))
            return f"VM {vm.name} is pinned by a mandatory VM-host affinity rule to {pinned}"
        if not reachable:
            return f"VM {vm.name} is kept off every other host by VM-host rule {rule.name}"
    return None


def plan_moves(
    cluster: str,
    vms: Sequence[VmToMove],
    hosts: Sequence[PlacementHost],
    host_rules: Sequence[VmHostRule] = (),
    vm_rules: Sequence[VmVmRule] = (),
    headroom: Headroom | None = None,
) -> MovePlan:
    """Each VM to a host that accepts VMs, or why it cannot go anywhere."""
    planner = _Planner(cluster, hosts, host_rules, vm_rules, headroom or Headroom())
    return planner.plan(sorted(vms, key=lambda vm: vm.name))


class _NoHost(Exception):
    """No host may take a group; the message says why."""


class _Planner:
    def __init__(
        self,
        cluster: str,
        hosts: Sequence[PlacementHost],
        host_rules: Sequence[VmHostRule],
        vm_rules: Sequence[VmVmRule],
        headroom: Headroom,
    ) -> None:
        self.cluster = cluster
        self.hosts = {h.name: h for h in hosts}
        self.host_rules = host_rules
        self.vm_rules = vm_rules
        self.free = {h.name: _free(h, headroom) for h in hosts}
        self.running = {h.name: set(h.vms) for h in hosts}  # updated as VMs are placed

    def plan(self, vms: list[VmToMove]) -> MovePlan:
        moves: dict[str, str] = {}
        unmovable: dict[str, str] = {}
        for vm in vms:
            reason = why_stuck(vm, list(self.hosts.values()), self.host_rules, self.cluster)
            if reason:
                unmovable[vm.name] = reason
        groups = self._groups([vm for vm in vms if vm.name not in unmovable], unmovable)
        for group in sorted(groups, key=_largest_first):
            try:
                target = self._best(group)
            except _NoHost as none:
                unmovable.update({vm.name: str(none) for vm in group})
                continue
            self._place(group, target)
            moves.update({vm.name: target for vm in group})
        return MovePlan(
            moves=dict(sorted(moves.items())),
            unmovable=[Unmovable(vm=name, reason=why) for name, why in sorted(unmovable.items())],
        )

    def _groups(self, vms: list[VmToMove], stuck: dict[str, str]) -> list[list[VmToMove]]:
        """VMs that must move together (affinity rules), joined transitively; a group
        with a member that cannot move stays whole, each member saying why."""
        group_of = {vm.name: [vm] for vm in vms}
        for rule in self.vm_rules:
            members = [name for name in sorted(rule.vms) if name in group_of]
            for name in members[1:] if rule.together else []:
                first, other = group_of[members[0]], group_of[name]
                if first is not other:
                    first.extend(other)
                    group_of.update({vm.name: first for vm in other})
        groups = list({id(g): g for g in group_of.values()}.values())
        blocked = {id(g): self._stuck_partner(g, stuck) for g in groups}
        for group in groups:
            reason = blocked[id(group)]
            if reason:
                stuck.update({vm.name: reason for vm in group})
        return [g for g in groups if not blocked[id(g)]]

    def _stuck_partner(self, group: list[VmToMove], stuck: dict[str, str]) -> str | None:
        names = {vm.name for vm in group}
        for rule in self.vm_rules:
            partners = sorted(rule.vms & stuck.keys()) if rule.together and rule.vms & names else []
            if partners:
                return (
                    f"VM {_names(names)} must stay with VM {partners[0]} "
                    f"(affinity rule {rule.name}), which cannot move"
                )
        return None

    def _best(self, group: list[VmToMove]) -> str:
        """The host with room that the rules allow; the most free memory wins."""
        names = {vm.name for vm in group}
        candidates = set.intersection(*(self._allowed(vm) for vm in group))
        anchors = self._anchors(names, group[0].host)
        if anchors is not None:
            candidates &= anchors
        if not candidates:
            raise _NoHost(f"no other host of {self.cluster} may run VM {_names(names)}")
        apart = [h for h in candidates if not self._separated(names, h)]
        if not apart:
            rules = ", ".join(sorted(r.name for r in self.vm_rules if _apart(r, names)))
            raise _NoHost(
                f"VM {_names(names)} has no host left under anti-affinity rule {rules}: "
                "every other allowed host already runs a member"
            )
        cpu, memory = _demand(group)
        fitting = [h for h in apart if self.free[h][0] >= cpu and self.free[h][1] >= memory]
        if not fitting:
            together = f" with its affinity group ({len(group)} VMs)" if len(group) > 1 else ""
            raise _NoHost(
                f"VM {_names(names)} does not fit on any other host of {self.cluster}{together}: "
                f"it needs {cpu} MHz CPU and {memory} MB memory within a host's headroom"
            )
        return max(
            fitting,
            key=lambda h: (self._preferred(names, h), self.free[h][1], self.free[h][0], h),
        )

    def _allowed(self, vm: VmToMove) -> set[str]:
        allowed = {
            name
            for name, host in self.hosts.items()
            if host.accepts_vms and not host.ha_failover and name != vm.host
        }
        if vm.storage_hosts is not None:
            allowed &= vm.storage_hosts
        for rule in self.host_rules:
            if rule.mandatory and vm.name in rule.vms:
                allowed = allowed & rule.hosts if rule.affine else allowed - rule.hosts
        return allowed

    def _anchors(self, names: set[str], source: str) -> set[str] | None:
        """Hosts where the rest of each affinity group of these VMs already runs, if it
        runs elsewhere: the group must join it there."""
        anchors: set[str] | None = None
        for rule in self.vm_rules:
            partners = rule.vms - names if rule.together and rule.vms & names else set()
            hosts = {h for h, vms in self.running.items() if h != source and vms & partners}
            if hosts:
                anchors = hosts if anchors is None else anchors & hosts
        return anchors

    def _separated(self, names: set[str], host: str) -> bool:
        """True if an anti-affinity rule forbids the group on ``host``."""
        return any(
            (rule.vms - names) & self.running[host] for rule in self.vm_rules if _apart(rule, names)
        )

    def _preferred(self, names: set[str], host: str) -> int:
        """How many "should" VM-host rules of the group ``host`` honours."""
        return sum(
            (host in rule.hosts) == rule.affine
            for rule in self.host_rules
            if not rule.mandatory and rule.vms & names
        )

    def _place(self, group: list[VmToMove], host: str) -> None:
        cpu, memory = _demand(group)
        self.free[host] = (self.free[host][0] - cpu, self.free[host][1] - memory)
        self.running[host] |= {vm.name for vm in group}
        for vm in group:
            self.running.get(vm.host, set()).discard(vm.name)


def _apart(rule: VmVmRule, names: set[str]) -> bool:
    return not rule.together and bool(rule.vms & names)


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _demand(group: list[VmToMove]) -> tuple[int, int]:
    return sum(vm.cpu_mhz for vm in group), sum(vm.memory_mb for vm in group)


def _largest_first(group: list[VmToMove]) -> tuple[int, int, str]:
    """Most memory, then most CPU, then by name."""
    cpu, memory = _demand(group)
    return -memory, -cpu, min(vm.name for vm in group)


def _free(host: PlacementHost, headroom: Headroom) -> tuple[int, int]:
    """CPU and memory a host may still take: its capped capacity less its load."""
    cpu_share = min(headroom.max_utilization_percent, 100 - headroom.cpu_reserved_percent)
    memory_share = min(headroom.max_utilization_percent, 100 - headroom.memory_reserved_percent)
    return (
        host.cpu_mhz * cpu_share // 100 - host.used_cpu_mhz,
        host.memory_mb * memory_share // 100 - host.used_memory_mb,
    )
