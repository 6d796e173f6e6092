"""How the console lays out a compliance evaluation: a cluster x component grid of state
counts, and the reboots a remediation dry run implies. Pure, so it is unit-tested alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.compliance import HostCompliance, State, rollup
from domain.install_order import Stage
from domain.remediation import HostPlan

# The order a cell lists its counts in, and each state's symbol and word: the colour is
# never the only sign (colour-blind safe).
ORDER = (State.COMPLIANT, State.UPGRADE, State.DOWNGRADE, State.UNKNOWN, State.NOT_APPLICABLE)
MARKS = {
    State.COMPLIANT: ("✓", "compliant"),
    State.UPGRADE: ("↑", "upgrade"),
    State.DOWNGRADE: ("↓", "downgrade"),
    State.UNKNOWN: ("?", "unknown"),
    State.NOT_APPLICABLE: ("∅", "n/a"),
}
REBOOT_STAGES = frozenset({Stage.HOST_REBOOT, Stage.CPLD})
NO_CLUSTER = "(no cluster)"


@dataclass
class Cell:
    """How many hosts of a cluster are in each state for one component."""

    counts: Counter[State] = field(default_factory=Counter)

    @property
    def worst(self) -> State | None:
        return rollup(list(self.counts)) if self.counts else None

    @property
    def listed(self) -> list[tuple[State, int]]:
        return [(s, self.counts[s]) for s in ORDER if self.counts[s]]


@dataclass
class Row:
    cluster: str
    hosts: Cell
    cells: list[Cell]


@dataclass
class Grid:
    components: list[tuple[str, str]]  # (component id, name), by name
    rows: list[Row]


def grid(hosts: Sequence[HostCompliance]) -> Grid:
    """One row per cluster, one column per component any host has. A host whose state is
    unknown (no inventory) counts as unknown in every column: nothing is known of it."""
    names: dict[str, str] = {}
    for host in hosts:
        for c in host.components:
            names.setdefault(c.component_id, c.name or c.component_id)
    components = sorted(names.items(), key=lambda item: (item[1].lower(), item[0]))
    index = {cid: i for i, (cid, _) in enumerate(components)}
    rows: dict[str, Row] = {}
    for host in hosts:
        name = host.cluster or NO_CLUSTER
        row = rows.setdefault(name, Row(name, Cell(), [Cell() for _ in components]))
        row.hosts.counts[host.state] += 1
        if host.state is State.UNKNOWN and not host.components:
            for cell in row.cells:
                cell.counts[State.UNKNOWN] += 1
        for c in host.components:
            row.cells[index[c.component_id]].counts[c.state] += 1
    ordered = sorted(rows.values(), key=lambda r: (r.cluster == NO_CLUSTER, r.cluster))
    return Grid(components, ordered)


def reboots(plan: HostPlan) -> int:
    """Host reboots (or power cycles) the host's install order takes."""
    return sum(1 for step in plan.steps if step.stage in REBOOT_STAGES)
