"""Which machine answered a sweep: a different service tag at the address is a mismatch."""

from __future__ import annotations

import pytest

from domain.inventory import mismatch, system_id_text
from integrations.redfish.documents import dell_system_id, service_tag


@pytest.mark.parametrize(
    ("expected", "found", "wrong"),
    [
        ("ABC1234", "ABC1234", False),
        ("abc1234", "ABC1234", False),  # tags compare without case
        ("ABC1234", "XYZ9876", True),
        (None, "XYZ9876", False),  # nothing expected yet
        ("ABC1234", None, False),  # the BMC names no machine
    ],
)
def test_mismatch_only_when_both_are_known_and_differ(
    expected: str | None, found: str | None, wrong: bool
) -> None:
    reason = mismatch(expected, found)
    assert (reason is not None) == wrong
    if reason:
        assert reason.startswith(f"service tag mismatch: {found} answers at this address")


def test_service_tag_is_the_sku_on_a_dell_and_the_serial_elsewhere() -> None:
    system = {"SKU": "To be filled by O.E.M.", "SerialNumber": "S123"}
    assert service_tag(system, dell=False) == "S123"
    assert service_tag({**system, "SKU": "ABC1234"}, dell=True) == "ABC1234"


def test_system_id_as_the_catalog_writes_it() -> None:
    system = {"Oem": {"Dell": {"DellSystem": {"SystemID": 0x0A6B}}}}
    assert system_id_text(dell_system_id(system)) == "0x0A6B"
    assert system_id_text(dell_system_id({"Oem": {}})) is None
