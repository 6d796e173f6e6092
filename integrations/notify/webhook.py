"""Signed webhooks: the event as JSON, POSTed with an HMAC-SHA256 signature.

The signature covers ``<timestamp>.<body>`` (the timestamp header, a dot, the raw body), so
a receiver can reject both forged and replayed requests; README "Notifications" shows how
to verify it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from domain.notifications import NotificationEvent, retryable_status
from integrations.notify.errors import DeliveryError

SIGNATURE_HEADER = "X-Idrac-Orch-Signature"
TIMESTAMP_HEADER = "X-Idrac-Orch-Timestamp"
EVENT_HEADER = "X-Idrac-Orch-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class HttpOptions:
    timeout_s: float = 10.0
    ca_bundle: Path | None = None  # None: the system's CAs


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
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(options.ca_bundle)) if options.ca_bundle else True
    )
    try:
        with httpx.Client(timeout=options.timeout_s, verify=verify) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError("the receiver did not answer in time", retryable=True) from None
    except httpx.HTTPError as exc:
        # httpx's own words name neither the URL nor a header.
        raise DeliveryError(f"could not reach the receiver: {exc}", retryable=True) from None
    if not response.is_success:
        raise DeliveryError(
            f"the receiver answered HTTP {response.status_code}",
            retryable=retryable_status(response.status_code),
        )
