"""The fleet's vCenter-side fields reach the simulator's topology unchanged."""

from __future__ import annotations

from pathlib import Path

from simulators.fleet import load_fleet
from simulators.vcsim.topology import to_topology

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fleet-maintenance-blockers.yaml"


def test_blocker_example_carries_vm_mobility_and_reservations() -> None:
    topology = to_topology(load_fleet(EXAMPLE))
    host = topology["datacenters"][0]["clusters"][0]["hosts"][0]
    vms = {vm["name"]: vm for vm in host["vms"]}
    assert host["management_ip"] == "127.30.0.1"
    assert vms["gpu-vm"]["passthrough"] is True
    assert vms["local-vm"]["local_storage"] is True
    assert vms["pinned-vm"]["pinned_to_host"] is True
    assert (vms["db-vm"]["cpu_reservation_mhz"], vms["db-vm"]["memory_reservation_mb"]) == (
        4000,
        32768,
    )
