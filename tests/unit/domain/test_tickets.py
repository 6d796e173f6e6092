"""What each event does to a campaign's change request, and the fields it sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.notifications import EventKind, NotificationEvent
from domain.tickets import (
    TicketAction,
    closing_fields,
    correlation_id,
    legacy_correlation_id,
    opening_fields,
    ticket_action,
)


def _event(kind: EventKind, campaign_id: int | None = 12) -> NotificationEvent:
    return NotificationEvent(
        key=f"campaign-12/{kind.value}",
        kind=kind,
        campaign_id=campaign_id,
        subject="campaign 12",
        detail="2 updated, 1 held",
        occurred_at=datetime(2026, 12, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        (EventKind.CAMPAIGN_PLANNED, None),
        (EventKind.APPROVAL_NEEDED, None),
        (EventKind.CAMPAIGN_STARTED, TicketAction.OPEN),
        (EventKind.HOST_FINISHED, TicketAction.NOTE),
        (EventKind.HOST_HELD, TicketAction.NOTE),
        (EventKind.CAMPAIGN_PAUSED, TicketAction.NOTE),
        (EventKind.WINDOW_MISSED, TicketAction.NOTE),
        (EventKind.CAMPAIGN_COMPLETED, TicketAction.CLOSE),
        (EventKind.CAMPAIGN_FAILED, TicketAction.CLOSE),
        (EventKind.CAMPAIGN_ABORTED, TicketAction.CLOSE),
    ],
)
def test_each_campaign_event_opens_notes_or_closes(
    kind: EventKind, action: TicketAction | None
) -> None:
    assert ticket_action(_event(kind)) is action


def test_an_event_without_a_campaign_touches_no_change_request() -> None:
    assert ticket_action(_event(EventKind.DRIFT_FOUND, campaign_id=None)) is None


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (EventKind.CAMPAIGN_COMPLETED, "successful"),
        (EventKind.CAMPAIGN_FAILED, "unsuccessful"),
        (EventKind.CAMPAIGN_ABORTED, "unsuccessful"),
    ],
)
def test_the_close_says_closed_with_the_result(kind: EventKind, code: str) -> None:
    fields = closing_fields(_event(kind))
    assert (fields["state"], fields["close_code"]) == ("3", code)
    assert "2 updated, 1 held" in fields["close_notes"]


INSTALLATION = "3f2c9a4e-8d1b-4c7e-9a55-0b6f1e2d7c90"


def test_the_request_carries_the_installation_and_campaign_as_its_correlation_id() -> None:
    fields = opening_fields(12, INSTALLATION)
    assert (
        fields["correlation_id"]
        == correlation_id(12, INSTALLATION)
        == (f"idrac-orch-{INSTALLATION}-campaign-12")
    )
    # Another installation's campaign 12 (a second orchestrator, a rebuilt database) and
    # the id requests opened before migration 0016 carry are all different.
    other = "9b1d7f3c-2e4a-4b8d-8c6f-1a2b3c4d5e6f"
    assert len({correlation_id(12, INSTALLATION), correlation_id(12, other)}) == 2
    assert legacy_correlation_id(12) == "idrac-orch-campaign-12"
    assert legacy_correlation_id(12) not in (correlation_id(12, INSTALLATION),)
    assert len(fields["correlation_id"]) <= 100  # ServiceNow's correlation_id column
    assert fields["short_description"] == "iDRAC firmware campaign 12"
