"""Change tickets, the pure part: what a notification event does to its campaign's change
request, and the fields ServiceNow's Table API gets for it.

One change request per campaign and channel: opened when the campaign starts rolling (it is
approved by then), a work note per event while it runs (each host's outcome), closed with a
close code when it ends. Field names and values are ServiceNow's (``change_request`` table,
Change Management state model; see docs/notifications.md).
"""

from __future__ import annotations

from enum import StrEnum

from domain.notifications import EventKind, NotificationEvent, body

TABLE = "change_request"
STATE_CLOSED = "3"  # Change Management state model: -5 New ... 0 Review, 3 Closed, 4 Canceled
SHORT_DESCRIPTION_MAX = 160


class TicketAction(StrEnum):
    OPEN = "open"
    NOTE = "note"  # opens it first if the note wins the race with the opening event
    CLOSE = "close"


CLOSE_CODES = {
    EventKind.CAMPAIGN_COMPLETED: "successful",
    EventKind.CAMPAIGN_FAILED: "unsuccessful",
    EventKind.CAMPAIGN_ABORTED: "unsuccessful",
}
# Before the start nothing is approved or changed yet: no change request to speak of.
BEFORE_START = {EventKind.CAMPAIGN_PLANNED, EventKind.APPROVAL_NEEDED}


def ticket_action(event: NotificationEvent) -> TicketAction | None:
    """None: the event has nothing to do with a change request (no campaign, not started)."""
    if event.campaign_id is None or event.kind in BEFORE_START:
        return None
    if event.kind in CLOSE_CODES:
        return TicketAction.CLOSE
    if event.kind is EventKind.CAMPAIGN_STARTED:
        return TicketAction.OPEN
    return TicketAction.NOTE


def correlation_id(campaign_id: int, installation: str) -> str:
    """What finds the campaign's change request again (after a crash, from another run).
    The installation id (store/installation.py) keeps two installations, or one rebuilt
    from an empty database, apart on one ServiceNow instance: campaign ids repeat."""
    return f"idrac-orch-{installation}-campaign-{campaign_id}"


def legacy_correlation_id(campaign_id: int) -> str:
    """The correlation id before migration 0016, without the installation: looked up only
    for a ticket claimed before it that never stored its request's sys_id."""
    return f"idrac-orch-campaign-{campaign_id}"


def opening_fields(campaign_id: int, installation: str) -> dict[str, str]:
    return {
        "short_description": f"iDRAC firmware campaign {campaign_id}"[:SHORT_DESCRIPTION_MAX],
        "description": (
            f"Rolling Dell iDRAC firmware update of campaign {campaign_id} by idrac-orch: "
            "each host enters vCenter maintenance mode, is updated, verified and returned. "
            "A work note follows every host's outcome; the request is closed with the result."
        ),
        "type": "normal",
        "correlation_id": correlation_id(campaign_id, installation),
        "correlation_display": "idrac-orch",
    }


def note_fields(event: NotificationEvent) -> dict[str, str]:
    return {"work_notes": body(event)}


def closing_fields(event: NotificationEvent) -> dict[str, str]:
    return {
        "state": STATE_CLOSED,
        "close_code": CLOSE_CODES[event.kind],
        "close_notes": body(event),
    }
