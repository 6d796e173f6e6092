"""Host duration estimates: hand-computed totals, the history rule, and properties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.components import FACTS, ComponentKind, RebootType, classify
from domain.estimates import (
    HISTORY_FLOOR,
    estimate_host,
    history_key,
    percentile,
)

K = ComponentKind
MIN = timedelta(minutes=1)


def test_bios_and_idrac_with_ten_vms() -> None:
    estimate = estimate_host([K.BIOS, K.IDRAC], vm_count=10)
    # preflight 2 + enter MM 3 + 10 x 0.5 + stage 2 x 2 + reboot 15 + LC 7 + BIOS 8
    # + reconnect 3 + iDRAC 12 + exit 1 + health 2 = 62 min
    assert estimate.total == 62 * MIN == estimate.from_components
    assert estimate.host_reboot and estimate.idrac_reset and estimate.basis == "components"
    assert [s.step for s in estimate.steps] == [
        "preflight",
        "enter maintenance",
        "stage packages",
        "host reboot",
        "apply BIOS during boot",
        "vCenter reconnect",
        "apply iDRAC + iDRAC reset",
        "exit maintenance",
        "health check",
    ]


def test_idrac_only_needs_no_host_reboot() -> None:
    estimate = estimate_host([K.IDRAC], vm_count=0)
    # preflight 2 + enter MM 3 + stage 2 + iDRAC 12 + exit 1 + health 2 = 22 min
    assert estimate.total == 22 * MIN
    assert not estimate.host_reboot and estimate.idrac_reset
    assert "host reboot" not in [s.step for s in estimate.steps]


def test_several_reboot_components_share_one_reboot() -> None:
    one = estimate_host([K.BIOS], vm_count=0)
    three = estimate_host([K.BIOS, K.NIC, K.RAID], vm_count=0)
    # Only the extra staging (2 x 2) and the NIC (3) and RAID (4) apply times are added.
    assert three.total - one.total == 11 * MIN
    assert [s.step for s in three.steps].count("host reboot") == 1


def test_history_uses_p90_with_enough_runs() -> None:
    runs = [timedelta(minutes=m) for m in (40, 45, 50, 52, 55, 60, 61, 62, 70, 90)]
    estimate = estimate_host([K.BIOS], vm_count=0, history=runs)
    assert estimate.total == 70 * MIN  # nearest rank: 9th of 10
    assert estimate.basis == "history: p90 of 10 runs"
    # preflight 2 + MM 3 + stage 2 + reboot 15 + LC 7 + BIOS 8 + reconnect 3 + exit 1 + health 2
    assert estimate.from_components == 43 * MIN


def test_history_is_floored_at_half_the_model() -> None:
    quick = [timedelta(minutes=5)] * 4
    estimate = estimate_host([K.BIOS], vm_count=0, history=quick)
    assert estimate.total == 43 * MIN * HISTORY_FLOOR == timedelta(minutes=21.5)
    assert "floored at 50% of the model" in estimate.basis


def test_too_few_runs_only_raise_the_model() -> None:
    assert estimate_host([K.BIOS], 0, [30 * MIN, 80 * MIN]).total == 80 * MIN
    lower = estimate_host([K.BIOS], 0, [30 * MIN])
    assert lower.total == 43 * MIN and lower.basis == "components (1 past run, fewer than 3)"


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="components"):
        estimate_host([], vm_count=1)
    with pytest.raises(ValueError, match="vm_count"):
        estimate_host([K.BIOS], vm_count=-1)
    with pytest.raises(ValueError, match="history"):
        estimate_host([K.BIOS], 0, [timedelta(0)] * 3)


def test_history_key_ignores_order_and_repeats() -> None:
    assert history_key(" PowerEdge R650", ["25227", "159", "159"]) == "PowerEdge R650|159,25227"


@pytest.mark.parametrize(
    ("component_id", "name", "kind", "reboot"),
    [
        ("25227", "", K.IDRAC, RebootType.IDRAC),
        ("159", "", K.BIOS, RebootType.HOST),
        ("999", "Integrated Dell Remote Access Controller", K.IDRAC, RebootType.IDRAC),
        ("999", "iDRAC Service Module", K.ISM, RebootType.NONE),
        ("999", "PERC H755 Front", K.RAID, RebootType.HOST),
        ("999", "Broadcom Gigabit Ethernet BCM5720 - 00:11:22", K.NIC, RebootType.HOST),
        ("999", "Dell 64 Bit uEFI Diagnostics", K.DIAGNOSTICS, RebootType.NONE),
        ("999", "Backplane Expander", K.OTHER, RebootType.HOST),
    ],
)
def test_classification(
    component_id: str, name: str, kind: ComponentKind, reboot: RebootType
) -> None:
    assert classify(component_id, name) is kind
    assert FACTS[kind].reboot is reboot


kinds = st.lists(st.sampled_from(list(ComponentKind)), min_size=1, max_size=6)
samples = st.lists(st.integers(1, 600).map(lambda m: m * MIN), max_size=20)


@settings(max_examples=200)
@given(kinds=kinds, extra=st.sampled_from(list(ComponentKind)), vms=st.integers(0, 200))
def test_more_work_never_shortens_the_estimate(
    kinds: list[ComponentKind], extra: ComponentKind, vms: int
) -> None:
    base = estimate_host(kinds, vms)
    assert estimate_host(kinds, vms + 1).total > base.total
    assert estimate_host([*kinds, extra], vms).total > base.total
    assert base.total == sum((s.duration for s in base.steps), timedelta(0))
    assert base.host_reboot == any(
        k not in (K.IDRAC, K.DIAGNOSTICS, K.DRIVER_PACK, K.ISM) for k in kinds
    )


@settings(max_examples=200)
@given(kinds=kinds, vms=st.integers(0, 200), history=samples)
def test_history_rule(kinds: list[ComponentKind], vms: int, history: list[timedelta]) -> None:
    estimate = estimate_host(kinds, vms, history)
    model = estimate.from_components
    if len(history) >= 3:
        assert estimate.total == max(percentile(history, 90), model * HISTORY_FLOOR)
        # at least 90% of the runs took no longer than the estimate
        assert sum(run <= estimate.total for run in history) >= 0.9 * len(history)
    else:
        assert estimate.total == max([model, *history])
