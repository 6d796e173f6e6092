"""Simulator set-up errors are caught before anything listens, naming host and field."""

from __future__ import annotations

import pytest

from simulators.fleet import HostSpec
from simulators.idrac.simulator import IdracSimulator, assign_addresses


def test_unknown_firmware_component_is_named() -> None:
    host = HostSpec(name="h", service_tag="ABC1234", firmware={"bios": "1.0", "gpu": "9"})
    with pytest.raises(ValueError, match=r"host ABC1234: firmware components \['gpu'\] unknown"):
        IdracSimulator([host])


def test_addresses_skip_the_ones_the_fleet_already_uses() -> None:
    hosts = [
        HostSpec(name="a", service_tag="AAAAA"),
        HostSpec(name="b", service_tag="BBBBB", idrac_address="127.20.0.2"),
        HostSpec(name="c", service_tag="CCCCC"),
    ]
    assert assign_addresses(hosts, "127.20.0.1") == ["127.20.0.1", "127.20.0.2", "127.20.0.3"]


def test_addresses_never_leave_loopback() -> None:
    hosts = [HostSpec(name=f"h{i}", service_tag=f"HOST{i}") for i in range(3)]
    with pytest.raises(ValueError, match=r"ran out of loopback addresses at 128\.0\.0\.0"):
        assign_addresses(hosts, "127.255.255.254")


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_scale must be > 0"):
        IdracSimulator([], time_scale=0)


@pytest.mark.parametrize(
    ("base", "problem"), [("10.0.0.1", "is not loopback"), ("127.20.0", "is not an IP address")]
)
def test_base_address_must_be_a_loopback_ip(base: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        assign_addresses([HostSpec(name="a", service_tag="AAAAA")], base)
