"""Faults, credentials and generic mode come from the fleet file as documented."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import JobFailedError
from integrations.redfish.flows import update_firmware
from integrations.redfish.models import Credentials
from simulators.fleet import FleetFileError, load_fleet
from simulators.idrac.simulator import IdracSimulator
from tests.integration.redfish.test_updates import BIOS

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fleet-idrac-faults.yaml"


async def test_example_fleet_drives_the_simulator(options, image_dir, tmp_path) -> None:
    fleet = load_fleet(EXAMPLE)
    sim = IdracSimulator.from_fleet(
        fleet, base_address=f"127.21.251.{random.randint(1, 200)}", port=0, time_scale=0.005,
        state_dir=tmp_path,
    )  # fmt: skip
    async with sim:
        opts = options.model_copy(update={"ca_bundle": sim.ca_path})
        root = Credentials(username="root", password="calvin")
        async with RedfishClient(sim.url_of("LAB0002"), root, opts) as client:
            with pytest.raises(JobFailedError, match="RED007"):
                await update_firmware(client, file=image_dir / BIOS)
        async with RedfishClient(sim.url_of("LAB0006"), root, opts) as client:
            assert not (await client.identity()).dell_oem
        admin = Credentials(username="admin", password="not-the-default")
        async with RedfishClient(sim.url_of("LAB0007"), admin, opts) as client:
            assert (await client.identity()).service_tag == "LAB0007"
        assert sim.hosts["LAB0001"].firmware["bios"] == "1.10.2"


def test_bad_fault_value_names_the_field(tmp_path: Path) -> None:
    broken = EXAMPLE.read_text().replace("busy_503: 3", "busy_503: -3")
    path = tmp_path / "fleet.yaml"
    path.write_text(broken)
    with pytest.raises(FleetFileError, match=r"hosts\.4\.faults\.busy_503: .*greater than"):
        load_fleet(path)
