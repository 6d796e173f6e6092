"""How a send failed, in words safe to store and show (never a secret or a secret URL)."""

from __future__ import annotations


class DeliveryError(Exception):
    """The receiver did not accept the notification. ``retryable``: waiting may help (an
    outage, a rate limit); otherwise the channel's setup is wrong and retrying cannot."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
