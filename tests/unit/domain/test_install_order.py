"""One host's install order: iDRAC/LC first and alone, immediate packages, BIOS then the
devices at one reboot, CPLD alone and last, whatever order the caller gave."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.install_order import Installable, Stage, install_order

IDRAC = Installable("25227", "7.10.30.00", "FRMW", reboot_required=False)
BIOS = Installable("159", "2.13.0", "BIOS", reboot_required=True)
NIC = Installable("108255", "22.5.7", "FRMW", reboot_required=True)
RAID = Installable("101560", "52.16.1-4500", "FRMW", reboot_required=True)
DIAGS = Installable("25806", "4301A74", "APAC", reboot_required=False)
ISM = Installable("104684", "5.4.0.0", "APAC", reboot_required=False)
CPLD = Installable("27763", "1.0.7", "FRMW", reboot_required=True)
DRIVE = Installable("103733", "MA8G", "FRMW", reboot_required=False)  # unknown id
PSU = Installable("109999", "00.3D.7A", "FRMW")  # unknown id, reboot unknown
ALL = [IDRAC, BIOS, NIC, RAID, DIAGS, ISM, CPLD, DRIVE, PSU]


def test_the_documented_order() -> None:
    steps = install_order([NIC, CPLD, BIOS, DIAGS, IDRAC, RAID])
    assert [(s.stage, [i.component_id for i in s.items]) for s in steps] == [
        (Stage.IDRAC, ["25227"]),
        (Stage.IMMEDIATE, ["25806"]),
        (Stage.HOST_REBOOT, ["159", "101560", "108255"]),
        (Stage.CPLD, ["27763"]),
    ]


def test_a_package_that_needs_no_reboot_is_applied_at_once_and_unknown_ones_at_reboot() -> None:
    steps = install_order([DRIVE, PSU])
    assert [(s.stage, s.items) for s in steps] == [
        (Stage.IMMEDIATE, (DRIVE,)),
        (Stage.HOST_REBOOT, (PSU,)),
    ]


@given(st.permutations(ALL), st.integers(1, len(ALL)))
def test_order_rules_hold_for_any_input_order(items: list[Installable], keep: int) -> None:
    chosen = items[:keep]
    steps = install_order(chosen)
    flat = [item for step in steps for item in step.items]
    assert sorted(flat, key=repr) == sorted(chosen, key=repr)  # nothing lost or added
    assert [s.stage for s in steps] == sorted(s.stage for s in steps)
    assert install_order(list(reversed(chosen))) == steps  # input order does not matter
    for step in steps:
        if step.stage in (Stage.IDRAC, Stage.CPLD):
            assert len(step.items) == 1
    if IDRAC in chosen:
        assert steps[0].items == (IDRAC,)
    if CPLD in chosen:
        assert steps[-1].items == (CPLD,)
    reboot = [s for s in steps if s.stage is Stage.HOST_REBOOT]
    if BIOS in chosen:
        assert reboot[0].items[0] is BIOS
