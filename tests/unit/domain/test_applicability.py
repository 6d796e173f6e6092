"""What applies to a host: SystemID, component ids and PCI ids decide, names never do."""

from __future__ import annotations

import pytest

from domain.applicability import (
    Host,
    InstalledDevice,
    Verdict,
    decide,
    system_id_key,
)
from domain.catalog import CatalogComponent, PciId, SupportedDevice, SupportedSystem
from domain.dell_version import Change

R650, R750 = "0912", "0A6B"
BCM5720 = PciId("14E4", "165F", "1028", "08FF")
X710 = PciId("8086", "1572", "1028", "1F9C")


def package(
    component_id: str,
    version: str,
    systems: tuple[str, ...] = (R650,),
    pci: tuple[PciId, ...] = (),
    name: str = "",
) -> CatalogComponent:
    return CatalogComponent(
        kind="software",
        line=1,
        path=f"FOLDER1/1/{component_id}_{version}.EXE",
        vendor_version=version,
        name=name,
        devices=(SupportedDevice(component_id, True, pci),),
        systems=tuple(SupportedSystem(s) for s in systems),
    )


def host(*devices: InstalledDevice, system_id: str = R650) -> Host:
    return Host(system_id, devices)


@pytest.mark.parametrize(
    ("given", "key"), [(2322, "0912"), ("0x0912", "0912"), ("912", "0912"), ("0a6b", "0A6B")]
)
def test_system_ids_from_redfish_inventory_and_catalog_agree(given: str | int, key: str) -> None:
    assert system_id_key(given) == key


def test_a_system_id_that_is_not_hex_is_refused() -> None:
    with pytest.raises(ValueError, match="hex"):
        system_id_key("R650")


def test_newer_bios_for_this_model_installs() -> None:
    [decision] = decide(host(InstalledDevice("159", "2.9.1")), [package("159", "2.13.0")])
    assert decision.verdict is Verdict.INSTALL
    assert decision.changes == (Change.UPGRADE,)


def test_another_models_package_does_not_apply_even_with_a_matching_name() -> None:
    other = package("159", "9.9.9", systems=(R750,), name="BIOS for PowerEdge R650")
    assert decide(host(InstalledDevice("159", "2.9.1")), [other]) == []


def test_a_device_the_host_lacks_gets_nothing() -> None:
    assert decide(host(InstalledDevice("159", "2.9.1")), [package("25227", "7.10.30.00")]) == []


def test_pci_ids_separate_cards_sharing_a_component_id() -> None:
    nic = InstalledDevice("108255", "22.00.6", pci=BCM5720)
    wrong_card = package("108255", "23.0.0", pci=(X710,))
    right_card = package("108255", "22.5.7", pci=(BCM5720,))
    assert decide(host(nic), [wrong_card]) == []
    [decision] = decide(host(nic), [wrong_card, right_card])
    assert decision.component is right_card


def test_a_device_without_pci_ids_is_matched_by_component_id() -> None:
    nic = InstalledDevice("108255", "22.00.6")
    [decision] = decide(host(nic), [package("108255", "22.5.7", pci=(BCM5720,))])
    assert decision.verdict is Verdict.INSTALL


def test_the_newest_of_several_packages_is_the_candidate() -> None:
    offers = [package("159", "2.10.0"), package("159", "2.13.0"), package("159", "2.12.1")]
    [decision] = decide(host(InstalledDevice("159", "2.9.1")), offers)
    assert decision.component.vendor_version == "2.13.0"


def test_a_current_component_is_left_alone() -> None:
    [decision] = decide(host(InstalledDevice("25227", "7.10.30")), [package("25227", "7.10.30.00")])
    assert decision.verdict is Verdict.CURRENT


def test_downgrades_only_when_allowed() -> None:
    installed, older = host(InstalledDevice("159", "2.13.0")), [package("159", "2.9.1")]
    [blocked] = decide(installed, older)
    assert blocked.verdict is Verdict.DOWNGRADE_BLOCKED
    [allowed] = decide(installed, older, allow_downgrade=True)
    assert allowed.verdict is Verdict.INSTALL and allowed.changes == (Change.DOWNGRADE,)


def test_one_device_it_would_take_back_blocks_the_package() -> None:
    # Two NICs under one id, one already past the catalog: the DUP flashes both.
    nics = host(InstalledDevice("108255", "21.0.0"), InstalledDevice("108255", "23.0.0"))
    [decision] = decide(nics, [package("108255", "22.5.7")])
    assert decision.changes == (Change.UPGRADE, Change.DOWNGRADE)
    assert decision.verdict is Verdict.DOWNGRADE_BLOCKED


def test_unorderable_versions_count_as_downgrades() -> None:
    [decision] = decide(host(InstalledDevice("25806", "A07")), [package("25806", "4301A74")])
    assert decision.changes == (Change.UNORDERED,)
    assert decision.verdict is Verdict.DOWNGRADE_BLOCKED
