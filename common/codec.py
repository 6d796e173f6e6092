"""AES-GCM payload codec: what Temporal stores and shows is ciphertext, not our inventory.

Temporal's database, its Web UI and anyone with namespace read access see every workflow
input, result, heartbeat, memo and failure. Those carry host names, package URIs and
versions, so every client and worker of ours encrypts them (ARCHITECTURE: "a payload codec
encrypts Temporal payloads as a second line").

Rotation: several keys are configured; the newest encrypts and every one decrypts, each
payload naming its key in its metadata. Workflows started under an old key keep running
after a new key is added, as long as the old key stays configured until they finish.
Payloads without our encoding (histories recorded before the codec existed) pass through
unchanged, so those workflows replay and complete too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"  # the value Temporal's samples and codec servers use
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class CodecKeyError(ValueError):
    """A payload cannot be decrypted with the configured keys (never says more than the id)."""


@dataclass(frozen=True)
class CodecKey:
    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != _KEY_BYTES:
            raise ValueError(f"payload key {self.key_id!r} must be {_KEY_BYTES} bytes")

    def __repr__(self) -> str:  # the dataclass default would print the key
        return f"CodecKey(key_id={self.key_id!r})"


def key_from_base64(key_id: str, encoded: str) -> CodecKey:
    """An operator-provided key (``openssl rand -base64 32``)."""
    try:
        secret = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError(f"payload key {key_id!r} is not base64") from None
    return CodecKey(key_id, secret)


def derived_key(secret_key: str) -> CodecKey:
    """The payload key of a secret key (HKDF, its own purpose), named by a digest that
    reveals nothing about either."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=b"temporal payloads")
    secret = hkdf.derive(secret_key.encode())
    return CodecKey("d-" + hashlib.sha256(b"payload-key-id:" + secret).hexdigest()[:16], secret)


class EncryptionCodec(PayloadCodec):
    """Encrypts with ``keys[0]``; decrypts with whichever key a payload names."""

    def __init__(self, keys: Sequence[CodecKey]) -> None:
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        self._encrypting = keys[0]
        self._ciphers: Mapping[str, AESGCM] = {k.key_id: AESGCM(k.secret) for k in keys}

    @property
    def key_id(self) -> str:
        return self._encrypting.key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self._encrypting.key_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before the codec (or by a plain client): pass through
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecKeyError(
                f"payload encrypted with key {key_id!r}, which is not configured "
                "(IDRAC_ORCH_PAYLOAD_KEYS, or the secret key it was derived from)"
            )
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise CodecKeyError(f"payload under key {key_id!r} failed authentication") from None
        return Payload.FromString(plain)
