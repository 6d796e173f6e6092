"""Inventory and health sweeps: what one iDRAC read yields, and how sweeps are named.

A sweep reads every managed iDRAC: its installed firmware and its health (the system's
rollup, the per-subsystem rollups and the sensors). One unreachable iDRAC is a finding of
the sweep, never the end of it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.onboarding import InstalledFirmware

WORKFLOW_NAME = "InventorySweepWorkflow"
SCHEDULE_ID = "inventory-sweep"
BATCH_SIZE = 250  # servers per activity: a bounded payload, a bounded retry


def sweep_workflow_id(sweep_id: int) -> str:
    return f"inventory-sweep-{sweep_id}"


class _Io(BaseModel):
    model_config = ConfigDict(frozen=True)


SensorKind = Literal["temperature", "fan", "power_supply"]


class Sensor(_Io):
    kind: SensorKind
    name: str
    reading: float | None = None
    units: str | None = Field(default=None, examples=["Cel", "RPM", "W"])
    health: str | None = Field(default=None, examples=["OK", "Warning", "Critical"])


class HealthReading(_Io):
    """The system's health rollup, each subsystem's rollup, and the sensors."""

    health: str | None = Field(default=None, description="the system's HealthRollup")
    rollups: dict[str, str] = Field(
        default_factory=dict, examples=[{"fans": "OK", "memory": "OK", "storage": "OK"}]
    )
    sensors: list[Sensor] = Field(default_factory=list)


class HostReading(_Io):
    """One iDRAC in one sweep: what it answered, or why it did not."""

    server_id: int
    reachable: bool
    error: str | None = None
    health: HealthReading | None = None
    firmware: list[InstalledFirmware] | None = None
    service_tag: str | None = Field(default=None, description="the machine that answered")
    system_id: str | None = Field(default=None, examples=["0x0A6B"])
    tag_mismatch: bool = Field(
        default=False, description="a different machine answered: nothing of it is stored"
    )


def system_id_text(value: int | None) -> str | None:
    """Dell's SystemID as the catalog and the store write it: 0x0A6B."""
    return f"0x{value:04X}" if value is not None else None


def mismatch(expected: str | None, found: str | None) -> str | None:
    """Why a reading is not the server's: another service tag answers at its address."""
    if not expected or not found or expected.upper() == found.upper():
        return None
    return (
        f"service tag mismatch: {found} answers at this address, not {expected} "
        "(moved, replaced or re-addressed: fix the server's iDRAC address or re-discover)"
    )


class SweepStart(_Io):
    """A sweep recorded through the API, or (none) one the schedule starts."""

    sweep_id: int | None = None


class SweepBatch(_Io):
    sweep_id: int
    server_ids: list[int]


class BatchResult(_Io):
    read: int
    unreachable: int


class SweepSummary(_Io):
    sweep_id: int
    servers: int
    read: int
    unreachable: int
