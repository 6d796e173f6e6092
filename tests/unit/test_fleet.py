"""The fleet file: the example loads, and mistakes are reported with the field that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.fleet import FleetFileError, load_fleet
from simulators.vcsim.topology import to_topology

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_fleet_loads_and_maps_to_topology() -> None:
    fleet = load_fleet(EXAMPLES / "fleet-small.yaml")
    topology = to_topology(fleet)
    hosts = [h for dc in topology["datacenters"] for c in dc["clusters"] for h in c["hosts"]]
    assert len(hosts) == len(fleet.hosts()) == 8
    assert {h["vendor"] for h in hosts} == {"Dell Inc."}
    ams01 = next(h for h in hosts if h["service_tag"] == "AMS0001")
    assert [vm["name"] for vm in ams01["vms"]] == [
        "esx-ams-01.lab.test-vm00",
        "esx-ams-01.lab.test-vm01",
    ]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


HOST = "{name: h1, service_tag: ABC1234}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("datacenters: []", "datacenters: List should have at least 1 item"),
        (
            "datacenters: [{name: d, timezone: Mars/Base, clusters: "
            f"[{{name: c, hosts: [{HOST}]}}]}}]",
            "datacenters.0.timezone: Value error, 'Mars/Base' is not an IANA timezone",
        ),
        (
            "datacenters: [{name: d, clusters: "
            "[{name: c, hosts: [{name: h, service_tag: bad!}]}]}]",
            "datacenters.0.clusters.0.hosts.0.service_tag",
        ),
        (
            f"datacenters: [{{name: d, clusters: [{{name: c, hosts: [{HOST}, {HOST}]}}]}}]",
            "duplicate host name 'h1'",
        ),
        (
            "datacenters: [{name: d, clusters: [{name: c, hosts: "
            "[{name: h, service_tag: ABC1234, idrac_address: 10.0.0.5}]}]}]",
            "10.0.0.5 is not a loopback address",
        ),
        (
            "datacenters: [{name: d, clusters: "
            f"[{{name: c, hosts: [{HOST}], drs: {{mode: x}}}}]}}]",
            "datacenters.0.clusters.0.drs.mode: Extra inputs are not permitted",
        ),
        ("datacenters: [", "not valid YAML"),
    ],
)
def test_mistakes_name_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(FleetFileError) as caught:
        load_fleet(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
