"""Authenticated encryption of stored secrets (AES-256-GCM).

Keys come from the environment (IDRAC_ORCH_SECRET_KEY, plus retired keys still able to
decrypt). Each ciphertext records the id of the key that sealed it, so keys can rotate
without a flag day: ``idrac-orch secrets rotate`` re-seals everything under the current key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.settings import Settings

NONCE_BYTES = 12
_AAD = b"idrac-orch/credential-profile/v1"


class SecretKeyMissingError(RuntimeError):
    """No IDRAC_ORCH_SECRET_KEY: secrets can be neither stored nor read."""


class SecretUnreadableError(RuntimeError):
    """The key that sealed a secret is gone, or the ciphertext was altered."""


def derive_key(material: str, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose from an operator-chosen passphrase or random string."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        material.encode()
    )


def package_link_keys(settings: Settings) -> list[bytes]:
    """Keys of signed package links, current first: a link signed just before a key
    rotation still verifies. Empty without a secret key (then no link is valid)."""
    if settings.secret_key is None:
        return []
    secrets = [settings.secret_key, *settings.previous_secret_keys]
    return [derive_key(s.get_secret_value(), b"package links") for s in secrets]


def key_id(key: bytes) -> str:
    """A short public name for a key, stored next to what it sealed or keyed."""
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:16]


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    key_id: str


class SecretBox:
    def __init__(self, current: str, previous: list[str] | None = None) -> None:
        keys = [derive_key(m, b"credential profiles") for m in [current, *(previous or [])]]
        self._current = keys[0]
        self.current_key_id = key_id(self._current)
        self._by_id = {key_id(key): key for key in keys}

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secret_key is None:
            raise SecretKeyMissingError(
                "secret storage is not configured: set IDRAC_ORCH_SECRET_KEY"
            )
        return cls(
            settings.secret_key.get_secret_value(),
            [key.get_secret_value() for key in settings.previous_secret_keys],
        )

    def seal(self, plaintext: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._current).encrypt(nonce, plaintext.encode(), _AAD)
        return Sealed(nonce + sealed, self.current_key_id)

    def open(self, sealed: Sealed) -> str:
        key = self._by_id.get(sealed.key_id)
        if key is None:
            raise SecretUnreadableError(
                f"secret sealed with key {sealed.key_id}, which is not configured "
                "(add it to IDRAC_ORCH_PREVIOUS_SECRET_KEYS)"
            )
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, body, _AAD).decode()
        except InvalidTag:
            raise SecretUnreadableError(
                f"secret sealed with key {sealed.key_id} failed authentication"
            ) from None
