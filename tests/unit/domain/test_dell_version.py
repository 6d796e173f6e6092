"""Dell version order: the formats Dell ships, and the laws an order must obey."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dell_version import Change, change, compare, parse


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2.9.1", "2.13.0"),  # BIOS: numeric fields, not text (2.9 < 2.13)
        ("7.00.00.00", "7.10.30.00"),  # iDRAC
        ("22.00.6", "22.5.7"),  # NIC: leading zeros are numbers
        ("A07", "A10"),  # old-style Dell revision
        ("4301A73", "4301A74"),  # Diagnostics
        ("52.16.1-4405", "52.16.1-4500"),  # PERC
        ("MA8F", "MA8G"),  # drive firmware
        ("1.2.3 A00", "1.2.3 A01"),  # same vendor version, later Dell revision
        ("1.2.3 A09", "1.2.4 A00"),  # the vendor version decides first
        ("2.13", "2.13.1"),
    ],
)
def test_dell_formats_order(older: str, newer: str) -> None:
    assert compare(older, newer) == -1
    assert compare(newer, older) == 1
    assert change(older, newer) is Change.UPGRADE
    assert change(newer, older) is Change.DOWNGRADE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("7.10.30.00", "7.10.30"),  # trailing zero fields
        ("1.2.3 A00", "1.2.3"),  # the inventory has no Dell revision
        ("1.2.3, A00", "1.2.3"),
        ("mA8f", "MA8F"),  # letters ignore case
    ],
)
def test_equal_spellings(a: str, b: str) -> None:
    assert compare(a, b) == 0
    assert change(a, b) is Change.SAME


def test_formats_that_cannot_be_ordered_say_so() -> None:
    assert compare("A07", "2.13.0") is None
    assert change("2.13.0", "A07") is Change.UNORDERED
    assert compare("", "1.0") is None
    with pytest.raises(ValueError, match="not a version"):
        parse("..")


numeric = st.lists(st.integers(0, 300), min_size=1, max_size=5)
run = st.one_of(st.integers(0, 999).map(str), st.text("abcdefXYZ", min_size=1, max_size=3))
mixed = st.lists(run, min_size=1, max_size=5).map(".".join)
versions = st.one_of(numeric.map(lambda parts: ".".join(map(str, parts))), mixed)


@given(numeric, numeric)
def test_dotted_numbers_order_like_integer_tuples(a: list[int], b: list[int]) -> None:
    def trimmed(parts: list[int]) -> list[int]:
        while len(parts) > 1 and parts[-1] == 0:
            parts = parts[:-1]
        return parts

    expected = (trimmed(a) > trimmed(b)) - (trimmed(a) < trimmed(b))
    assert compare(".".join(map(str, a)), ".".join(map(str, b))) == expected


@given(versions)
def test_reflexive(v: str) -> None:
    assert compare(v, v) == 0


@given(versions, versions)
def test_antisymmetric(a: str, b: str) -> None:
    forward, backward = compare(a, b), compare(b, a)
    assert (forward is None and backward is None) or forward == -backward  # type: ignore[operator]


@given(versions, versions, versions)
def test_transitive(a: str, b: str, c: str) -> None:
    ab, bc, ac = compare(a, b), compare(b, c), compare(a, c)
    if ab is not None and ab == bc:
        assert ac == ab
    if ab == 0 and bc == 0:
        assert ac == 0


@given(versions, st.sampled_from(["A00", "A01", "X07"]))
def test_a_dell_revision_never_outweighs_the_version(v: str, revision: str) -> None:
    assert compare(f"{v} {revision}", v) == 0
