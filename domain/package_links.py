"""Signed package links: what lets an iDRAC pull a package over plain HTTP.

An iDRAC sends no credentials when it fetches an ImageURI, so over HTTP the link itself
is the credential: an HMAC over the campaign, the package's SHA-256 and an expiry. The
file name stays the last path segment (iDRACs and our twin read the package name from
it) and nothing goes in a query string.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNED_PREFIX = "/repository/c"


@dataclass(frozen=True)
class PackageLink:
    campaign_id: int
    sha256: str
    file_name: str
    expires: int  # Unix seconds

    def signature(self, key: bytes) -> str:
        message = f"{self.campaign_id}:{self.sha256}:{self.expires}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]

    def path(self, key: bytes) -> str:
        return (
            f"{SIGNED_PREFIX}/{self.campaign_id}/{self.expires}/{self.signature(key)}/"
            f"{self.sha256}/{self.file_name}"
        )


def refusal(link: PackageLink, signature: str, keys: list[bytes], now: float) -> str | None:
    """Why LINK with SIGNATURE must not be served (None: serve it)."""
    if not any(hmac.compare_digest(link.signature(key), signature) for key in keys):
        return "the link's signature does not match (altered, or for another campaign)"
    if now > link.expires:
        return "the link expired; the worker signs a new one for each staging"
    return None
