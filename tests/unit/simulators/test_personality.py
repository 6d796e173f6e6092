"""A fleet file picks each host's iDRAC9 line; the line decides its defaults."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from simulators.fleet import FleetFileError, load_fleet
from simulators.idrac.host import SimHost
from simulators.idrac.personality import NEWEST, PERSONALITIES, PersonalityName

FLEET = """
datacenters:
  - name: dc
    clusters:
      - name: c
        hosts:
          - {{name: h1, service_tag: ABC0001{extra}}}
          - name: h2
            service_tag: ABC0002
            personality: idrac9-4.x
            firmware: {{idrac: 4.10.10.10}}
"""


class _NoServices:
    def scaled(self, seconds: float) -> float:
        return seconds


def _hosts(tmp_path: Path, extra: str = "") -> list[SimHost]:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET.format(extra=extra))
    return [SimHost(h, "127.0.0.1", _NoServices()) for _, _, h in load_fleet(path).hosts()]  # type: ignore[arg-type]


def test_hosts_default_to_the_newest_line_and_run_its_idrac_firmware(tmp_path: Path) -> None:
    newest, pinned = _hosts(tmp_path)
    assert newest.personality.name == NEWEST
    assert newest.firmware["idrac"] == PERSONALITIES[NEWEST].idrac_version
    assert pinned.personality.name == "idrac9-4.x"
    assert pinned.firmware["idrac"] == "4.10.10.10"  # the fleet file wins


def test_line_without_fleet_firmware_runs_that_lines_idrac(tmp_path: Path) -> None:
    (host, _) = _hosts(tmp_path, ", personality: idrac9-5.x")
    assert host.firmware["idrac"].startswith("5.")


def test_unknown_line_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(FleetFileError, match=r"personality: Input should be 'idrac9-4.x'"):
        _hosts(tmp_path, ", personality: idrac8")


def test_the_fleet_file_accepts_exactly_the_lines_the_simulator_plays() -> None:
    assert set(get_args(PersonalityName)) == set(PERSONALITIES)


@pytest.mark.parametrize("name", list(PERSONALITIES))
def test_every_line_names_the_schemas_its_documents_use(name: str) -> None:
    line = PERSONALITIES[name]
    for resource in ("ServiceRoot", "ComputerSystem", "Manager", "UpdateService", "Task"):
        assert line.odata_type(resource).startswith(f"#{resource}.v1_")
    assert line.message_id("SUP024") == f"{line.registry}.SUP024"
    assert line.message_id("Base.1.12.GeneralError") == "Base.1.12.GeneralError"
