"""Chat services (Slack, Teams, Mattermost, ... and plain JSON or form posts) through
Apprise, which speaks each service's API so that we write no client of our own.

The Apprise URL carries the service's tokens: it is never put in an error message.
"""

from __future__ import annotations

import logging

import apprise

from domain.notifications import NotificationEvent, body, title
from integrations.notify.errors import DeliveryError


def send_apprise(url: str, event: NotificationEvent) -> None:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise DeliveryError("Apprise does not understand the channel's URL", retryable=False)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        accepted = sender.notify(title=title(event), body=body(event))
    if not accepted:
        said = captured.getvalue().replace(url, "<channel url>").strip().splitlines()
        reason = said[-1] if said else "no reason given"
        raise DeliveryError(f"Apprise could not deliver: {reason}"[:500], retryable=True)


def understood(url: str) -> bool:
    """Whether Apprise knows the URL's service (checked when a channel is saved)."""
    return bool(apprise.Apprise().add(url))
