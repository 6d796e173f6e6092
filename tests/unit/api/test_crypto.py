"""Stored secrets: sealed with AES-GCM, tamper-evident, readable across a key rotation."""

from __future__ import annotations

import pytest

from common.settings import Settings
from store.crypto import Sealed, SecretBox, SecretKeyMissingError, SecretUnreadableError


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    box = SecretBox("current-key")
    sealed = box.seal("calvin-password")
    assert b"calvin" not in sealed.ciphertext
    assert sealed.key_id == box.current_key_id
    assert box.open(sealed) == "calvin-password"
    assert box.seal("calvin-password").ciphertext != sealed.ciphertext  # fresh nonce


def test_altered_ciphertext_is_refused() -> None:
    box = SecretBox("current-key")
    sealed = box.seal("calvin-password")
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    with pytest.raises(SecretUnreadableError, match="failed authentication"):
        box.open(Sealed(sealed.ciphertext[:-1] + flipped, sealed.key_id))


def test_old_key_still_opens_after_rotation_and_unknown_key_is_named() -> None:
    old = SecretBox("old-key")
    sealed = old.seal("s3cret-value")
    rotated = SecretBox("new-key", previous=["old-key"])
    assert rotated.open(sealed) == "s3cret-value"
    assert rotated.current_key_id != old.current_key_id
    with pytest.raises(SecretUnreadableError, match=old.current_key_id) as caught:
        SecretBox("new-key").open(sealed)
    assert "old-key" not in str(caught.value)


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(SecretKeyMissingError, match="IDRAC_ORCH_SECRET_KEY"):
        SecretBox.from_settings(Settings(secret_key=None))
