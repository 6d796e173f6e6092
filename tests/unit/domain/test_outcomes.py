"""Per-component outcomes are judged from the versions read before and after a run, never
from what the jobs said: a failed job that changed nothing is "unchanged", not reverted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.runbook import (
    ComponentStatus,
    ComponentTarget,
    HostOutcome,
    HostStatus,
    HostStep,
    component_outcomes,
)

BIOS = ComponentTarget(component_id="159", version="2.19.1", image_uri="http://repo/bios.exe")


@pytest.mark.parametrize(
    ("before", "after", "reverted", "held", "expected"),
    [
        ({"159": "2.19.1"}, {"159": "2.19.1"}, [], False, ComponentStatus.UNCHANGED),  # compliant
        ({"159": "2.10.0"}, {"159": "2.19.1"}, [], False, ComponentStatus.UPDATED),
        ({"159": "2.10.0"}, {"159": "2.10.0"}, [], False, ComponentStatus.UNCHANGED),  # job failed
        ({"159": "2.10.0"}, {"159": "2.10.0"}, ["159"], False, ComponentStatus.REVERTED),
        ({"159": "2.10.0"}, {"159": "2.10.0"}, ["159"], True, ComponentStatus.REVERTED),
        ({"159": "2.10.0"}, {"159": "2.19.1"}, [], True, ComponentStatus.HELD),
        ({"159": "2.10.0"}, None, [], True, ComponentStatus.HELD),  # unreadable, held
        ({"159": "2.10.0"}, {"159": "2.10.0"}, [], True, ComponentStatus.UNCHANGED),
        ({"159": "2.10.0"}, {"159": "2.15.0"}, [], False, ComponentStatus.FAILED),
        ({"159": "2.10.0"}, None, [], False, ComponentStatus.FAILED),  # unreadable, in service
        ({}, {}, [], False, ComponentStatus.UNCHANGED),  # preflight could not read: untouched
    ],
)
def test_a_component_is_judged_by_its_versions(
    before: dict[str, str],
    after: dict[str, str] | None,
    reverted: list[str],
    held: bool,
    expected: ComponentStatus,
) -> None:
    (outcome,) = component_outcomes([BIOS], before, after, reverted, held)
    assert outcome.status is expected
    assert (outcome.before, outcome.after) == (
        before.get("159"),
        None if after is None else after.get("159"),
    )


def test_the_audited_wording_names_status_step_components_and_reason() -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    outcome = HostOutcome(
        service_tag="ABC1234",
        status=HostStatus.FAILED,
        failed_step=HostStep.STAGE_FIRMWARE,
        reason="job failed: RED007",
        started_at=now,
        finished_at=now,
        components=component_outcomes([BIOS], {"159": "2.10.0"}, {}, [], held=False),
    )
    assert (
        outcome.describe() == "failed at stage_firmware: 159 2.10.0 -> ? failed; job failed: RED007"
    )


def test_an_outcome_from_an_earlier_release_still_decodes() -> None:
    stored = {
        "service_tag": "ABC1234",
        "status": "rolled_back",
        "failed_step": "verify",
        "reason": "",
        "started_at": "2026-12-05T00:00:00Z",
        "finished_at": "2026-12-05T00:10:00Z",
    }
    outcome = HostOutcome.model_validate(stored)
    assert (outcome.status, outcome.components) == (HostStatus.ROLLED_BACK, [])
    assert outcome.describe() == "rolled_back at verify"
