"""How many more hosts of a cluster may enter maintenance right now, and why.

Pure math over facts read from vCenter. Every rule gives the number of hosts it
allows; the answer is the smallest, with that rule's reason in words. Rules that
depend on which hosts go down assume the worst case: the largest hosts go first.

Demand of a powered-on VM: CPU = max(reservation, current usage), because CPU is
time-shared; memory = max(reservation, configured size), because memory is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HostResources(_Frozen):
    name: str
    cpu_mhz: int = Field(ge=0, description="cores x MHz")
    memory_mb: int = Field(ge=0)
    available: bool = Field(description="connected and not in maintenance")


class VmLoad(_Frozen):
    """A powered-on VM and what it needs wherever it runs."""

    name: str
    host: str
    cpu_mhz: int = Field(ge=0)
    memory_mb: int = Field(ge=0)

    @classmethod
    def of(
        cls,
        *,
        name: str,
        host: str,
        cpu_reservation_mhz: int,
        cpu_usage_mhz: int,
        memory_reservation_mb: int,
        memory_mb: int,
    ) -> VmLoad:
        return cls(
            name=name,
            host=host,
            cpu_mhz=max(cpu_reservation_mhz, cpu_usage_mhz),
            memory_mb=max(memory_reservation_mb, memory_mb),
        )


AdmissionControl = Literal["none", "failover_hosts", "failover_level", "percentage"]


class HaAdmission(_Frozen):
    """vSphere HA admission control. Dedicated failover hosts count like a failover level."""

    enabled: bool = False
    policy: AdmissionControl = "none"
    failover_hosts: int = Field(default=0, ge=0)
    failover_level: int = Field(default=0, ge=0)
    cpu_failover_percent: int = Field(default=0, ge=0, le=100)
    memory_failover_percent: int = Field(default=0, ge=0, le=100)

    @property
    def hosts_reserved(self) -> int:
        """Host failures HA must be able to absorb after maintenance."""
        if not self.enabled:
            return 0
        if self.policy == "failover_hosts":
            return self.failover_hosts
        if self.policy == "failover_level":
            return self.failover_level
        return 0


class CapacityPolicy(_Frozen):
    """The operator's limits for one cluster."""

    min_hosts_online: int = Field(default=1, ge=1)
    max_concurrent: int = Field(default=1, ge=1, description="hosts down at once, any reason")
    max_utilization_percent: int = Field(
        default=100, ge=1, le=100, description="of the remaining hosts' CPU and memory"
    )


class ClusterFacts(_Frozen):
    name: str
    hosts: list[HostResources] = Field(min_length=1)
    vms: list[VmLoad] = Field(default_factory=list, description="powered-on VMs only")
    ha: HaAdmission = Field(default_factory=HaAdmission)

    @model_validator(mode="after")
    def _unique_hosts(self) -> ClusterFacts:
        names = [h.name for h in self.hosts]
        if len(names) != len(set(names)):
            raise ValueError(f"cluster {self.name}: duplicate host names")
        return self


class Limit(_Frozen):
    rule: str
    allows: int = Field(ge=0)
    reason: str


class CapacityAnswer(_Frozen):
    cluster: str
    hosts_total: int
    hosts_available: int
    may_enter: int = Field(ge=0, description="more hosts that may enter maintenance now")
    reason: str
    limits: list[Limit]


def may_enter_maintenance(facts: ClusterFacts, policy: CapacityPolicy) -> CapacityAnswer:
    """The answer and every rule's own limit, smallest first in the answer's reason."""
    limits = _limits(facts, policy)
    tightest = min(limits, key=lambda limit: limit.allows)  # first of equals wins
    available = [h for h in facts.hosts if h.available]
    return CapacityAnswer(
        cluster=facts.name,
        hosts_total=len(facts.hosts),
        hosts_available=len(available),
        may_enter=tightest.allows,
        reason=tightest.reason,
        limits=limits,
    )


def ever_allowed(facts: ClusterFacts, policy: CapacityPolicy) -> bool:
    """Whether the policy lets a host in once every host of the cluster is back online: a
    refusal now is then a reason to wait for room, not a reason to fail the host."""
    whole = facts.model_copy(
        update={"hosts": [h.model_copy(update={"available": True}) for h in facts.hosts]}
    )
    return may_enter_maintenance(whole, policy).may_enter > 0


def _limits(facts: ClusterFacts, policy: CapacityPolicy) -> list[Limit]:
    available = [h for h in facts.hosts if h.available]
    down = len(facts.hosts) - len(available)
    limits: list[Limit] = []
    if len(facts.hosts) == 1:
        limits.append(
            Limit(
                rule="single_host",
                allows=0,
                reason=f"cluster {facts.name} has a single host: its VMs have nowhere to run",
            )
        )
    limits.append(
        Limit(
            rule="max_concurrent",
            allows=max(0, policy.max_concurrent - down),
            reason=f"policy allows {policy.max_concurrent} host(s) down at once and "
            f"{down} already in maintenance or not connected",
        )
    )
    limits.append(
        Limit(
            rule="min_hosts_online",
            allows=max(0, len(available) - policy.min_hosts_online),
            reason=f"policy keeps at least {policy.min_hosts_online} host(s) online "
            f"and {len(available)} are online",
        )
    )
    reserved = facts.ha.hosts_reserved
    if reserved:
        limits.append(
            Limit(
                rule="ha_failover_hosts",
                allows=max(0, len(available) - reserved - 1),
                reason=f"HA admission control tolerates {reserved} host failure(s), so "
                f"{reserved + 1} host(s) must stay online and {len(available)} are online",
            )
        )
    if facts.ha.enabled and facts.ha.policy == "percentage":
        limits.append(_percentage_limit(facts, available))
    limits.append(_resource_limit(facts, available, policy, reserved))
    return limits


def _largest_first(hosts: list[HostResources]) -> list[HostResources]:
    return sorted(hosts, key=lambda h: (h.memory_mb, h.cpu_mhz, h.name), reverse=True)


def _demand(facts: ClusterFacts) -> tuple[int, int]:
    return sum(vm.cpu_mhz for vm in facts.vms), sum(vm.memory_mb for vm in facts.vms)


def _largest_m(count: int, fits: Callable[[int], bool]) -> int:
    """Largest m in [0, count] with fits(m) true, fits being monotone; -1 if none."""
    best = -1
    for m in range(count + 1):
        if not fits(m):
            break
        best = m
    return best


def _resource_limit(
    facts: ClusterFacts, available: list[HostResources], policy: CapacityPolicy, reserved: int
) -> Limit:
    cpu_need, mem_need = _demand(facts)
    order = _largest_first(available)
    share = policy.max_utilization_percent

    def offered(m: int) -> tuple[int, int, int]:
        remaining = _largest_first(order[m:])[reserved:]
        cpu = sum(h.cpu_mhz for h in remaining) * share // 100
        mem = sum(h.memory_mb for h in remaining) * share // 100
        return len(remaining), cpu, mem

    def fits(m: int) -> bool:
        _, cpu, mem = offered(m)
        return cpu_need <= cpu and mem_need <= mem

    m = _largest_m(len(order), fits)
    n, cpu, mem = offered(max(m + 1, 0))
    hosts_out = max(m + 1, 0)
    spare = f" beyond {reserved} HA failover host(s)" if reserved else ""
    reason = (
        f"powered-on VMs need {cpu_need} MHz CPU and {mem_need} MB memory; with "
        f"{hosts_out} more host(s) in maintenance the remaining {n} host(s){spare} offer "
        f"{cpu} MHz and {mem} MB at {share}% utilisation"
    )
    return Limit(rule="cpu_memory", allows=max(m, 0), reason=reason)


def _percentage_limit(facts: ClusterFacts, available: list[HostResources]) -> Limit:
    cpu_need, mem_need = _demand(facts)
    order = _largest_first(available)
    cpu_pct, mem_pct = facts.ha.cpu_failover_percent, facts.ha.memory_failover_percent

    def offered(m: int) -> tuple[int, int]:
        remaining = order[m:]
        return (
            sum(h.cpu_mhz for h in remaining) * (100 - cpu_pct) // 100,
            sum(h.memory_mb for h in remaining) * (100 - mem_pct) // 100,
        )

    def fits(m: int) -> bool:
        cpu, mem = offered(m)
        return cpu_need <= cpu and mem_need <= mem

    m = _largest_m(len(order), fits)
    cpu, mem = offered(max(m + 1, 0))
    reason = (
        f"HA admission control reserves {cpu_pct}% CPU and {mem_pct}% memory; with "
        f"{max(m + 1, 0)} more host(s) in maintenance the rest offers {cpu} MHz and {mem} MB "
        f"for VMs needing {cpu_need} MHz and {mem_need} MB"
    )
    return Limit(rule="ha_percentage", allows=max(m, 0), reason=reason)
