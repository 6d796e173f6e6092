"""The inventory sweep names the machine that answered as onboarding did (identity()): Dell
by Oem.Dell.DellSystem or, lacking it, by the manager's DellLCService link; and a stored tag
matching the system's SKU or its SerialNumber is the same machine.

A mock transport here: the iDRAC simulator always serves DellSystem, and an iDRAC whose
system document leaves it out (but whose manager is a Dell's) is not something any real
part here serves.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integrations.discovery.scanner import ScanOptions
from integrations.discovery.sweep import SweepTarget, read_one
from integrations.redfish.models import ClientOptions, Credentials

TAG, BOARD_SERIAL = "7XK2Q93", "CNIVC0012345"
OPTIONS = ScanOptions(
    port=443, concurrency=1, connect_timeout_s=5, address_timeout_s=10, trust=ClientOptions()
)


def _system(dell_system: bool, **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@odata.id": "/redfish/v1/Systems/System.Embedded.1",
        "Id": "System.Embedded.1",
        "Manufacturer": "Dell Inc.",
        "SKU": TAG,
        "SerialNumber": BOARD_SERIAL,
        "Status": {"Health": "OK", "HealthRollup": "OK"},
        **fields,
    }
    if dell_system:
        document["Oem"] = {"Dell": {"DellSystem": {"SystemID": 0x0A6B}}}
    return document


def _bmc(system: dict[str, Any], dell_manager: bool) -> httpx.AsyncClient:
    manager: dict[str, Any] = {"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1", "Id": "M1"}
    if dell_manager:
        service = "/redfish/v1/Dell/Managers/iDRAC.Embedded.1/DellLCService"
        manager["Links"] = {"Oem": {"Dell": {"DellLCService": {"@odata.id": service}}}}
    documents = {
        "/redfish/v1": {
            "RedfishVersion": "1.17.0",
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
            "Managers": {"@odata.id": "/redfish/v1/Managers"},
            "UpdateService": {"@odata.id": "/redfish/v1/UpdateService"},
        },
        "/redfish/v1/Systems": {"Members": [system]},
        "/redfish/v1/Managers": {"Members": [manager]},
        "/redfish/v1/UpdateService/FirmwareInventory": {
            "Members": [
                {
                    "@odata.id": "/redfish/v1/UpdateService/FirmwareInventory/Installed-0-1",
                    "Id": "Installed-25227-7.00.00.00",
                    "Name": "Integrated Dell Remote Access Controller",
                    "Version": "7.00.00.00",
                    "Updateable": True,
                }
            ]
        },
    }

    def answer(request: httpx.Request) -> httpx.Response:
        found = documents.get(request.url.path)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def _read(system: dict[str, Any], dell_manager: bool, expected: str) -> Any:
    target = SweepTarget(1, "10.0.0.5", Credentials(username="root", password="x"), expected)
    async with _bmc(system, dell_manager) as http:
        return await read_one(target, OPTIONS, http)


@pytest.mark.parametrize("expected", [TAG, TAG.lower(), BOARD_SERIAL])
async def test_a_dell_without_dellsystem_is_still_the_stored_machine(expected: str) -> None:
    """Was a false mismatch: without DellSystem the sweep took the SerialNumber (the board
    serial) for the tag, which onboarding had read from the SKU."""
    reading = await _read(_system(dell_system=False), dell_manager=True, expected=expected)
    assert reading.error is None and reading.reachable and not reading.tag_mismatch
    assert reading.service_tag == TAG  # the SKU, as identity() names a Dell
    assert reading.firmware is not None and [f.version for f in reading.firmware] == ["7.00.00.00"]


async def test_another_machine_is_still_a_mismatch() -> None:
    reading = await _read(_system(dell_system=False), dell_manager=True, expected="ZZZ9999")
    assert reading.tag_mismatch and not reading.reachable
    assert reading.service_tag == TAG
    assert reading.error is not None and reading.error.startswith(
        f"service tag mismatch: {TAG} answers at this address, not ZZZ9999"
    )


async def test_a_generic_bmc_is_named_by_its_serial_number() -> None:
    system = _system(dell_system=False, SKU="To be filled by O.E.M.", SerialNumber="S123")
    reading = await _read(system, dell_manager=False, expected="S123")
    assert reading.reachable and not reading.tag_mismatch and reading.service_tag == "S123"
    wrong = await _read(system, dell_manager=False, expected="S999")
    assert wrong.tag_mismatch and wrong.service_tag == "S123"


async def test_a_dell_with_dellsystem_is_named_by_its_sku() -> None:
    reading = await _read(_system(dell_system=True), dell_manager=True, expected=TAG)
    assert reading.reachable and not reading.tag_mismatch
    assert (reading.service_tag, reading.system_id) == (TAG, "0x0A6B")
