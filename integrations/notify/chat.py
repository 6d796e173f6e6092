"""Chat services (Slack, Teams, Mattermost, ... and plain JSON or form posts) through
Apprise, which speaks each service's API so that we write no client of our own.

The Apprise URL carries the service's tokens, and Apprise writes URLs into its own log
lines: its logger does not reach ours, and what it says about a failure is stored only with
every part of the URL masked.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

import apprise

from common.logging import register_secret
from domain.notifications import NotificationEvent, body, title
from integrations.notify.errors import DeliveryError

logging.getLogger("apprise").propagate = False
MASK = "***"


def understood(url: str) -> bool:
    """Whether Apprise knows the URL's service (checked when a channel is saved)."""
    register_secret(url)
    return bool(apprise.Apprise().add(url))


def send_apprise(url: str, event: NotificationEvent) -> None:
    register_secret(url)
    sender = apprise.Apprise()
    if not sender.add(url):
        raise DeliveryError("Apprise does not understand the channel's URL", retryable=False)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        accepted = sender.notify(title=title(event), body=body(event))
    if not accepted:
        said = masked(captured.getvalue(), url).strip().splitlines()
        reason = said[-1] if said else "no reason given"
        raise DeliveryError(f"Apprise could not deliver: {reason}"[:500], retryable=True)


def masked(text: str, url: str) -> str:
    """TEXT with the URL and every piece of it (between / ? & = # @ :) replaced: any piece
    may be a token, and Apprise may quote the URL reshaped. Pieces under 4 characters (a
    port, "no") stay: too short to be a token, too common to mask."""
    rest = unquote(url.split("://", 1)[-1])
    pieces = {url, unquote(url), *re.split(r"[/?&=#@:;,]+", rest)}
    for piece in sorted((p for p in pieces if len(p) >= 4), key=len, reverse=True):
        text = text.replace(piece, MASK)
    return text
