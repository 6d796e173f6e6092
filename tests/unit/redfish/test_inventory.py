"""Parsing FirmwareInventory members and diffing two reads."""

from __future__ import annotations

from integrations.redfish.inventory import diff_inventory, matches, parse_inventory, parse_member
from integrations.redfish.models import ImageKind


def member(member_id: str, version: str, name: str = "BIOS", **extra: object) -> dict:
    return {"@odata.id": f"/x/{member_id}", "Id": member_id, "Name": name, "Version": version,
            "Updateable": True, **extra}  # fmt: skip


def test_dell_member_id_grammar() -> None:
    c = parse_member(member("Previous-101560-25.5.7.0005__RAID.Mezzanine.1-1", "25.5.7.0005"))
    assert (c.kind, c.component_id, c.fqdd) == (ImageKind.PREVIOUS, "101560", "RAID.Mezzanine.1-1")


def test_old_firmware_ids_without_fqdd() -> None:
    c = parse_member(member("Available-25806-4301X07", "4301X07"))
    assert (c.kind, c.component_id, c.fqdd) == (ImageKind.AVAILABLE, "25806", None)


def test_software_id_wins_and_generic_ids_are_installed() -> None:
    c = parse_member(member("BMC", "1.2", name="BMC", SoftwareId="abc"))
    assert (c.kind, c.component_id, c.fqdd) == (ImageKind.INSTALLED, "abc", None)


def test_installed_and_current_are_one_device() -> None:
    inventory = parse_inventory(
        [
            member("Installed-159-1.2.4__BIOS.Setup.1-1", "1.2.4"),
            member("Current-159-1.2.4__BIOS.Setup.1-1", "1.2.4"),
            member("Previous-159-1.1.0__BIOS.Setup.1-1", "1.1.0"),
        ]
    )
    assert [c.id for c in inventory.installed()] == ["Installed-159-1.2.4__BIOS.Setup.1-1"]
    assert [c.version for c in inventory.previous()] == ["1.1.0"]


def test_diff_reports_changed_versions_only() -> None:
    before = parse_inventory(
        [
            member("Installed-159-1.2.4__BIOS.Setup.1-1", "1.2.4"),
            member("Installed-25227-7.00__iDRAC.Embedded.1-1", "7.00", name="iDRAC"),
        ]
    )
    after = parse_inventory(
        [
            member("Installed-159-1.3.0__BIOS.Setup.1-1", "1.3.0"),
            member("Installed-25227-7.00__iDRAC.Embedded.1-1", "7.00", name="iDRAC"),
        ]
    )
    changes = diff_inventory(before, after)
    assert [(c.component_id, c.before, c.after) for c in changes] == [("159", "1.2.4", "1.3.0")]
    assert diff_inventory(before, before) == []


def test_component_matching() -> None:
    idrac = parse_member(
        member("Previous-25227-6.10__iDRAC.Embedded.1-1", "6.10",
               name="Integrated Dell Remote Access Controller")
    )  # fmt: skip
    for wanted in ("idrac", "25227", "iDRAC.Embedded.1-1", "remote access"):
        assert matches(idrac, wanted), wanted
    assert not matches(idrac, "bios")
