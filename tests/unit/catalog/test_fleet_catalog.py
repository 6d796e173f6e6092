"""The twin's catalogs agree with the twin's iDRACs: release 0 is what a fresh simulated
fleet runs, later releases update every component, by Dell id and SystemID alone."""

from __future__ import annotations

import io

import pytest

from domain.applicability import Host, InstalledDevice, Verdict, decide, system_id_key
from domain.dell_version import Change
from integrations.catalog.parser import CatalogReader
from integrations.catalog.source import CountingReader
from simulators.fleet import Fleet, HostSpec, load_fleet
from simulators.idrac.catalog import bump, fleet_release
from simulators.idrac.components import COMPONENTS
from simulators.idrac.personality import PERSONALITIES
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(ROOT / "examples" / "fleet-small.yaml")


def installed(spec: HostSpec) -> Host:
    """What the simulator's inventory shows for this host (simulators/idrac/host.py)."""
    defaults = {key: c.default_version for key, c in COMPONENTS.items()}
    defaults["idrac"] = PERSONALITIES[spec.personality].idrac_version
    devices = tuple(
        InstalledDevice(c.component_id, spec.firmware.get(key, defaults[key]))
        for key, c in COMPONENTS.items()
    )
    return Host(system_id_key(spec.system_id), devices)


@pytest.mark.parametrize(
    ("version", "steps", "later"),
    [
        ("7.00.00.00", 2, "7.00.00.02"),
        ("4301A73", 1, "4301A74"),
        ("52.16.1-4405", 3, "52.16.1-4408"),
    ],
)
def test_bump_keeps_dell_formats(version: str, steps: int, later: str) -> None:
    assert bump(version, steps) == later


def test_release_0_is_what_the_fleet_runs_and_release_2_updates_everything(fleet: Fleet) -> None:
    current = list(CatalogReader(CountingReader(io.BytesIO(fleet_release(fleet, 0)))))
    later = list(CatalogReader(CountingReader(io.BytesIO(fleet_release(fleet, 2)))))
    assert len(current) == len(later) == len(COMPONENTS)
    for _, _, spec in fleet.hosts():
        host = installed(spec)
        now = decide(host, current)
        assert {d.devices[0].component_id for d in now} == {
            c.component_id for c in COMPONENTS.values()
        }
        assert all(d.verdict is Verdict.CURRENT for d in now), spec.name
        upgrades = decide(host, later)
        assert all(d.verdict is Verdict.INSTALL for d in upgrades), spec.name
        assert all(d.changes == (Change.UPGRADE,) for d in upgrades)
        assert all(d.component.component_type for d in upgrades)
