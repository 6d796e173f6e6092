"""What the HTTP channels (webhooks, ServiceNow) share: one client per send, with the
configured timeout and CAs, and every failure worded as a DeliveryError that says whether
waiting may help."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from domain.notifications import retryable_status
from integrations.notify.errors import DeliveryError


@dataclass(frozen=True)
class HttpOptions:
    timeout_s: float = 10.0
    ca_bundle: Path | None = None  # None: the system's CAs

    def client(self, **kwargs: Any) -> httpx.Client:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(self.ca_bundle)) if self.ca_bundle else True
        )
        return httpx.Client(timeout=self.timeout_s, verify=verify, **kwargs)


def exchange(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; a 2xx answer, or a DeliveryError."""
    try:
        response = client.request(method, url, **kwargs)
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
    return response
