"""Every reason a workflow gives for waiting falls in a category: the reasons are read
from the workflows' source (a new one, or a reworded one, fails here) and from the
window arithmetic they quote."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.wait_reasons import WaitCategory, wait_category
from domain.windows import OneOffWindow, WeeklyWindow, wait_reason

WORKFLOWS = Path(__file__).parents[3] / "workflows"
# Reasons a workflow takes from elsewhere, each covered below: the window decision's (tested
# with real windows here) and the approval gate's (its ``waiting_reason`` is read as source);
# the rest pass a reason set earlier on.
DELEGATED = {"decision.reason", "self.gate.waiting_reason()"}
PASSED_ON = {"self.waiting_reason", "waiting"}


def _samples(value: ast.expr) -> Iterator[str]:
    """The strings an expression can produce, each placeholder filled with 'X1'."""
    if isinstance(value, ast.Constant):
        if isinstance(value.value, str):
            yield value.value
    elif isinstance(value, ast.JoinedStr):
        yield "".join(
            str(part.value) if isinstance(part, ast.Constant) else "X1" for part in value.values
        )
    elif isinstance(value, ast.IfExp):
        yield from _samples(value.body)
        yield from _samples(value.orelse)
    else:
        yield ast.unparse(value)  # a name or a call: checked against DELEGATED


def _reason_expressions(tree: ast.Module) -> Iterator[ast.expr]:
    """What is assigned to a ``waiting_reason`` attribute or the ``waiting`` variable, passed
    as ``waiting_reason=``, or returned by a ``waiting_reason`` method."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                values = node.value.elts if isinstance(node.value, ast.Tuple) else None
                for index, name in enumerate(names):
                    if ast.unparse(name) in ("self.waiting_reason", "waiting"):
                        yield values[index] if values else node.value
        elif isinstance(node, ast.keyword) and node.arg == "waiting_reason":
            yield node.value
        elif isinstance(node, ast.FunctionDef) and node.name == "waiting_reason":
            yield from (r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value)


def _workflow_reasons() -> set[str]:
    found: set[str] = set()
    for path in sorted(WORKFLOWS.glob("*.py")):
        for expression in _reason_expressions(ast.parse(path.read_text())):
            found.update(_samples(expression))
    return found - PASSED_ON


def test_the_workflows_reasons_are_found() -> None:
    """The reader above really reads them (a refactor that hides them fails here)."""
    reasons = _workflow_reasons()
    assert reasons >= DELEGATED
    assert len(reasons - DELEGATED) >= 8, reasons


@pytest.mark.parametrize("reason", sorted(_workflow_reasons() - DELEGATED))
def test_every_workflow_reason_has_a_category(reason: str) -> None:
    assert wait_category(reason) is not WaitCategory.OTHER, reason


def test_no_reason_from_elsewhere_goes_unchecked() -> None:
    """A workflow quoting a reason built somewhere new needs a test of that place too."""
    assert {r for r in _workflow_reasons() if "X1" not in r and " " not in r} <= DELEGATED


NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    "windows",
    [
        [WeeklyWindow(timezone="UTC", weekdays=["sun"], start="22:00", duration_minutes=240)],
        [WeeklyWindow(timezone="UTC", weekdays=["sat"], start="11:30", duration_minutes=60)],
        [WeeklyWindow(timezone="UTC", weekdays=["sat"], start="13:00", duration_minutes=30)],
        [OneOffWindow(timezone="UTC", starts_at="2026-01-01T00:00", ends_at="2026-01-02T00:00")],
    ],
    ids=["outside", "closing-soon", "too-short", "none-ahead"],
)
def test_window_reasons_are_maintenance_window(windows: list[WeeklyWindow]) -> None:
    decision = wait_reason(windows, NOW, timedelta(hours=1))
    assert not decision.ready
    assert wait_category(decision.reason) is WaitCategory.WINDOW, decision.reason


def test_an_unknown_reason_is_other() -> None:
    assert wait_category("something a later release says") is WaitCategory.OTHER
