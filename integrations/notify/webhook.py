"""Signed webhooks: the event as JSON, POSTed with an HMAC-SHA256 signature.

The signature covers ``<timestamp>.<body>`` (the timestamp header, a dot, the raw body), so
a receiver can reject both forged and replayed requests; README "Notifications" shows how
to verify it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from domain.notifications import NotificationEvent
from integrations.notify.http import HttpOptions, exchange

SIGNATURE_HEADER = "X-Idrac-Orch-Signature"
TIMESTAMP_HEADER = "X-Idrac-Orch-Timestamp"
EVENT_HEADER = "X-Idrac-Orch-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``timestamp.body``)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def payload(event: NotificationEvent) -> bytes:
    """The body: the event's fields, compact and with sorted keys (stable bytes to sign)."""
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()


def post_webhook(
    url: str, secret: str, event: NotificationEvent, options: HttpOptions | None = None
) -> None:
    options = options or HttpOptions()
    body = payload(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event.kind.value,
        IDEMPOTENCY_HEADER: event.key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    with options.client() as client:
        exchange(client, "POST", url, content=body, headers=headers)
