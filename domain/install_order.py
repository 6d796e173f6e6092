"""The order in which one host's updates are applied, as a pure function.

Dell's guidance, and what we derive from it (docs/catalog.md, "Install order", cites it):

1. **iDRAC with Lifecycle Controller, alone and first.** Dell's CMC user's guides: "To
   update multiple components on a server, it is recommended to update the Lifecycle
   Controller and 32-Bit Diagnostics components together first. These do not require a
   server reboot and are relatively quick to complete. The other components can then be
   updated together." The LC applies every other package, so a current LC is what the
   rest is tested against; the iDRAC resets itself afterwards (reference §5.5, §7), so
   nothing else may be in flight while it does.
2. **Packages applied at once, without a reboot** (Diagnostics, OS Driver Pack, iSM, any
   package with ``rebootRequired="false"``): the guide's "together first".
3. **BIOS, then the other firmware staged for the same host reboot** (RAID, NIC, drives,
   backplanes, PSUs): "the other components can then be updated together"; BIOS first in
   the batch is our choice (derived) so the platform firmware lands before the devices.
4. **CPLD alone and last**: it needs its own virtual A/C power cycle and "must not be
   stacked with other devices and should run last" (reference §5.5, DRS scripts).

Items keep their given order inside a stage only as a tie-break after the component id,
so the result does not depend on the order the caller listed them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from domain.components import ComponentKind, classify


class Stage(IntEnum):
    IDRAC = 1
    IMMEDIATE = 2
    HOST_REBOOT = 3
    CPLD = 4


STAGE_TEXT = {
    Stage.IDRAC: "iDRAC with Lifecycle Controller (alone; the iDRAC resets)",
    Stage.IMMEDIATE: "applied at once, no reboot",
    Stage.HOST_REBOOT: "staged, applied together at one host reboot (BIOS first)",
    Stage.CPLD: "CPLD (alone, last; virtual A/C power cycle)",
}
_IMMEDIATE_KINDS = {ComponentKind.DIAGNOSTICS, ComponentKind.DRIVER_PACK, ComponentKind.ISM}


@dataclass(frozen=True, slots=True)
class Installable:
    """One package to apply: the device id it targets and what the catalog says of it."""

    component_id: str
    version: str
    component_type: str | None = None  # the catalog's ComponentType@value
    reboot_required: bool | None = None  # the catalog's rebootRequired


@dataclass(frozen=True, slots=True)
class Step:
    stage: Stage
    items: tuple[Installable, ...]

    @property
    def text(self) -> str:
        return STAGE_TEXT[self.stage]


def stage_of(item: Installable) -> Stage:
    """By Dell component id and catalog attributes, never by display name."""
    kind = classify(item.component_id)
    if kind is ComponentKind.IDRAC:
        return Stage.IDRAC
    if kind is ComponentKind.CPLD:
        return Stage.CPLD
    if kind in _IMMEDIATE_KINDS or item.reboot_required is False:
        return Stage.IMMEDIATE
    return Stage.HOST_REBOOT


def _is_bios(item: Installable) -> bool:
    return item.component_type == "BIOS" or classify(item.component_id) is ComponentKind.BIOS


def install_order(items: Sequence[Installable]) -> list[Step]:
    """The steps to run, in order; each step's items are applied together."""
    by_stage: dict[Stage, list[Installable]] = {}
    for item in items:
        by_stage.setdefault(stage_of(item), []).append(item)
    steps = []
    for stage in sorted(by_stage):
        members = sorted(by_stage[stage], key=lambda i: (not _is_bios(i), i.component_id))
        if stage in (Stage.IDRAC, Stage.CPLD):
            steps.extend(Step(stage, (item,)) for item in members)  # each alone
        else:
            steps.append(Step(stage, tuple(members)))
    return steps
