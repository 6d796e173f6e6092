"""How long one host's update takes: from its components, or from what past runs measured.

The estimate decides whether a host may start in what is left of a maintenance window and
drives the dry-run makespan, so it errs long: an estimate that is too short strands a host
in maintenance after the window closed; one that is too long only waits for the next window.

Rules (see docs/domain.md):
- From components: preflight + enter maintenance (base + per-VM evacuation allowance) +
  staging per component + the components' own apply times + ONE host reboot cycle (with the
  Lifecycle Controller overhead) if any component needs it, + vCenter reconnect + exit
  maintenance + health check. All HOST components are staged and applied in one reboot;
  the iDRAC goes last (reference §4.6, §5.5).
- From history (past total durations of hosts of the same model and component set, see
  ``history_key``): with at least HISTORY_MIN_RUNS runs, the nearest-rank 90th percentile,
  floored at HISTORY_FLOOR of the component estimate (a history of quick or partial runs must
  not shrink the estimate below what the hardware needs). With fewer runs, the component
  estimate, raised to the slowest run seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from domain.components import FACTS, ComponentKind, RebootType

_MIN = timedelta(minutes=1)

# Host-level steps. Citations: reference = /work/shared/reference/idrac-redfish-firmware.md,
# peers = /work/shared/reference/peer-tools.md §4. "Derived" = our planning default.
PREFLIGHT = 2 * _MIN  # Redfish reads + LC status + vCenter checks; derived
ENTER_MAINTENANCE = 3 * _MIN  # vCenter task without VMs; derived
EVACUATION_PER_VM = timedelta(seconds=30)  # one vMotion on a 10 GbE vMotion network; derived
STAGE_PER_COMPONENT = 2 * _MIN  # DUP upload + job reaching Scheduled (reference §4.2, §11)
# Graceful shutdown (forced off after 5 min, reference §6) + POST + ESXi boot; derived.
HOST_REBOOT = 15 * _MIN
# LC work around a firmware boot: "+2 min UEFI cleanup, +5 min RSStatus/JobStatus"
# (peers, LC Integration Best Practices §33.4).
LC_OVERHEAD = 7 * _MIN
VCENTER_RECONNECT = 3 * _MIN  # host back "connected" after boot; derived
EXIT_MAINTENANCE = 1 * _MIN  # derived
HEALTH_CHECK = 2 * _MIN  # post-update Redfish + vCenter health; derived

HISTORY_MIN_RUNS = 3
HISTORY_PERCENTILE = 90
HISTORY_FLOOR = 0.5


class EstimateStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: str
    duration: timedelta


class HostEstimate(BaseModel):
    """The planned duration of one host, with the steps and the rule that produced it."""

    model_config = ConfigDict(frozen=True)

    total: timedelta
    from_components: timedelta
    steps: tuple[EstimateStep, ...]
    host_reboot: bool
    idrac_reset: bool
    basis: str


def history_key(model: str, component_ids: Iterable[str]) -> str:
    """Key under which past durations of hosts like this one are looked up and stored.

    Same server model and same set of updated components: e.g. ``PowerEdge R650|159,25227``.
    """
    return f"{model.strip()}|{','.join(sorted(set(component_ids)))}"


def component_steps(kinds: Sequence[ComponentKind], vm_count: int) -> tuple[EstimateStep, ...]:
    """The runbook's steps for a host updating ``kinds`` with ``vm_count`` VMs to evacuate."""
    if not kinds:
        raise ValueError("components: a host estimate needs at least one component to update")
    if vm_count < 0:
        raise ValueError(f"vm_count must not be negative, got {vm_count}")
    facts = [FACTS[kind] for kind in kinds]
    # Applied in the order the iDRAC itself uses: immediate, reboot-staged, iDRAC last.
    by_reboot = {r: [f for f in facts if f.reboot is r] for r in RebootType}
    steps = [
        ("preflight", PREFLIGHT),
        ("enter maintenance", ENTER_MAINTENANCE + vm_count * EVACUATION_PER_VM),
        ("stage packages", len(facts) * STAGE_PER_COMPONENT),
        *((f"apply {f.label}", f.apply) for f in by_reboot[RebootType.NONE]),
    ]
    if by_reboot[RebootType.HOST]:
        steps.append(("host reboot", HOST_REBOOT + LC_OVERHEAD))
        steps += [(f"apply {f.label} during boot", f.apply) for f in by_reboot[RebootType.HOST]]
        steps.append(("vCenter reconnect", VCENTER_RECONNECT))
    steps += [(f"apply {f.label} + iDRAC reset", f.apply) for f in by_reboot[RebootType.IDRAC]]
    steps += [("exit maintenance", EXIT_MAINTENANCE), ("health check", HEALTH_CHECK)]
    return tuple(EstimateStep(step=name, duration=duration) for name, duration in steps)


def percentile(samples: Sequence[timedelta], pct: int) -> timedelta:
    """Nearest-rank percentile: always one of the samples, never an interpolation."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def estimate_host(
    kinds: Sequence[ComponentKind], vm_count: int, history: Sequence[timedelta] = ()
) -> HostEstimate:
    """Estimate one host (rules in the module doc)."""
    bad = [sample for sample in history if sample <= timedelta(0)]
    if bad:
        raise ValueError(f"history: past durations must be positive, got {bad[0]}")
    steps = component_steps(kinds, vm_count)
    modelled = sum((s.duration for s in steps), timedelta(0))
    runs = len(history)
    if runs >= HISTORY_MIN_RUNS:
        p = percentile(history, HISTORY_PERCENTILE)
        floor = modelled * HISTORY_FLOOR
        total = max(p, floor)
        basis = f"history: p{HISTORY_PERCENTILE} of {runs} runs" + (
            "" if p >= floor else f", floored at {int(HISTORY_FLOOR * 100)}% of the model"
        )
    elif runs:
        total = max(modelled, *history)
        counted = f"{runs} past run{'s' if runs > 1 else ''}"
        basis = (
            f"slowest of {counted} (fewer than {HISTORY_MIN_RUNS})"
            if total > modelled
            else f"components ({counted}, fewer than {HISTORY_MIN_RUNS})"
        )
    else:
        total, basis = modelled, "components"
    facts = [FACTS[kind] for kind in kinds]
    return HostEstimate(
        total=total,
        from_components=modelled,
        steps=steps,
        host_reboot=any(f.reboot is RebootType.HOST for f in facts),
        idrac_reset=any(f.reboot is RebootType.IDRAC for f in facts),
        basis=basis,
    )
