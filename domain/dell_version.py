"""Ordering Dell firmware versions, whatever format the component uses.

Dell versions are not semver: iDRAC ``7.10.30.00``, BIOS ``2.13.0``, NIC ``22.5.7``, PERC
``52.16.1-4405``, Diagnostics ``4301A73``, drives ``MA8F``, old DUP revisions ``A07``, and
catalog labels such as ``1.2.3 A00`` (vendor version plus Dell revision). The rules:

- A version is a sequence of number and letter runs (``.``, ``-``, ``_`` and spaces only
  separate); numbers compare as numbers, letters case-insensitively.
- Trailing zero fields do not count in all-numeric versions: ``7.10.30`` = ``7.10.30.00``.
- A trailing Dell revision (``A00``, ``X07``, after a space or comma) only breaks ties
  between equal versions, and is ignored when one side has none: the inventory reports
  ``1.2.3`` for the package ``1.2.3 A00``. (So equality is transitive only among versions
  that all carry a revision or all lack one; the inventory never carries one.)
- Where a number meets letters at the same position (``A07`` against ``2.13.0``) the two
  cannot be ordered: :func:`compare` answers ``None`` and callers treat the change as
  a possible downgrade (never applied unless downgrades are allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_REVISION = re.compile(r"^(?P<main>.*?\w)[\s,]+(?P<rev>[A-Za-z]\d{2})$")
_RUN = re.compile(r"\d+|[A-Za-z]+")

Token = tuple[int, int | str]
"""(0, number) or (1, lower-case letters): the kind first, so mixed kinds are detected."""


@dataclass(frozen=True, slots=True)
class DellVersion:
    text: str
    tokens: tuple[Token, ...]
    revision: tuple[Token, ...] | None


def parse(text: str) -> DellVersion:
    """Split ``text`` into comparable runs; ValueError when it has no letter or digit."""
    stripped = text.strip()
    revision = None
    match = _REVISION.match(stripped)
    if match:
        stripped = match["main"]
        revision = _tokens(match["rev"])
    tokens = _tokens(stripped)
    if not tokens:
        raise ValueError(f"{text!r} is not a version: no digits or letters")
    if all(kind == 0 for kind, _ in tokens):
        while len(tokens) > 1 and tokens[-1] == (0, 0):
            tokens = tokens[:-1]
    return DellVersion(text, tokens, revision)


def _tokens(text: str) -> tuple[Token, ...]:
    return tuple((0, int(run)) if run.isdigit() else (1, run.lower()) for run in _RUN.findall(text))


def compare(left: str, right: str) -> int | None:
    """-1, 0 or 1 as ``left`` is older, equal or newer; None when they cannot be ordered
    (or either is not a version)."""
    try:
        a, b = parse(left), parse(right)
    except ValueError:
        return None
    order = _compare_tokens(a.tokens, b.tokens)
    if order != 0 or a.revision is None or b.revision is None:
        return order
    return _compare_tokens(a.revision, b.revision)


def _compare_tokens(a: tuple[Token, ...], b: tuple[Token, ...]) -> int | None:
    for (kind_a, value_a), (kind_b, value_b) in zip(a, b, strict=False):
        if kind_a != kind_b:
            return None
        if value_a != value_b:
            return -1 if value_a < value_b else 1  # type: ignore[operator]
    return (len(a) > len(b)) - (len(a) < len(b))


class Change(StrEnum):
    """What installing ``target`` over ``installed`` would be."""

    SAME = "same"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    UNORDERED = "unordered"  # formats that cannot be ordered: treated like a downgrade


def change(installed: str, target: str) -> Change:
    order = compare(target, installed)
    if order is None:
        return Change.UNORDERED
    return {0: Change.SAME, 1: Change.UPGRADE, -1: Change.DOWNGRADE}[order]
