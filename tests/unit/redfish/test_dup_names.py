"""The simulator learns an image's content from Dell's DUP file-name convention."""

from __future__ import annotations

import pytest

from simulators.idrac.dup import ImageNotUnderstood, identify_image, parse_dup_name


@pytest.mark.parametrize(
    ("name", "component", "version"),
    [
        ("BIOS_8MRPC_WN64_2.11.2.EXE", "bios", "2.11.2"),
        ("BIOS_8MRPC_C6420_WN64_2.11.2.EXE", "bios", "2.11.2"),
        ("iDRAC-with-Lifecycle-Controller_Firmware_XXXXX_WN64_7.10.30.00_A00.EXE", "idrac",
         "7.10.30.00"),
        ("Network_Firmware_6FD9P_WN64_22.00.6_A00.EXE", "nic", "22.00.6"),
        ("SAS-RAID_Firmware_F0XJ6_WN64_25.5.7.0005_A00.EXE", "raid", "25.5.7.0005"),
        ("Diagnostics_Application_R30YT_WN64_4301A73_A00.EXE", "diagnostics", "4301A73"),
        ("CPLD_Firmware_WN64_1.0.2_A00.EXE", "cpld", "1.0.2"),
        ("BIOS_8MRPC_LN64_2.11.2.BIN", "bios", "2.11.2"),
    ],
)  # fmt: skip
def test_dup_names(name: str, component: str, version: str) -> None:
    info = parse_dup_name(name)
    assert info is not None and (info.component.key, info.version) == (component, version)


@pytest.mark.parametrize(
    "name",
    ["firmimgFIT.d9", "BIOS_2.11.2.EXE", "Unknown-Thing_Firmware_X_WN64_1.0_A00.EXE", "BIOS.EXE"],
)
def test_names_that_are_not_dups(name: str) -> None:
    assert parse_dup_name(name) is None


def test_manifest_fallback() -> None:
    info = identify_image("firmimgFIT.d9", b"idrac-sim: component=idrac version=7.20.10.50\nxx")
    assert (info.component.key, info.version) == ("idrac", "7.20.10.50")


def test_neither_name_nor_manifest() -> None:
    with pytest.raises(ImageNotUnderstood):
        identify_image("image.bin", b"\x00\x01")
