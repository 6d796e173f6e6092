"""The payload codec: encrypts, names its key, rotates, and lets old plaintext through."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from common.codec import (
    ENCODING,
    KEY_ID,
    CodecKey,
    CodecKeyError,
    EncryptionCodec,
    derived_key,
    key_from_base64,
)
from common.settings import Settings
from common.temporal import codec_keys, data_converter, failure_message

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"host":"esx01.example.test"}')
OLD, NEW = CodecKey("2026-06", os.urandom(32)), CodecKey("2026-12", os.urandom(32))


async def test_round_trip_hides_content_and_names_the_key() -> None:
    codec = EncryptionCodec([NEW, OLD])
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"2026-12"
    assert b"esx01" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PLAIN]


async def test_rotation_old_payloads_still_decrypt_new_ones_use_the_new_key() -> None:
    [under_old] = await EncryptionCodec([OLD]).encode([PLAIN])
    rotated = EncryptionCodec([NEW, OLD])
    assert await rotated.decode([under_old]) == [PLAIN]
    assert (await rotated.encode([PLAIN]))[0].metadata[KEY_ID] == b"2026-12"


async def test_plaintext_from_before_the_codec_passes_through() -> None:
    assert await EncryptionCodec([NEW]).decode([PLAIN]) == [PLAIN]


async def test_unknown_key_and_tampering_fail_without_revealing_content() -> None:
    [sealed] = await EncryptionCodec([OLD]).encode([PLAIN])
    with pytest.raises(CodecKeyError, match="2026-06"):
        await EncryptionCodec([NEW]).decode([sealed])
    tampered = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(CodecKeyError, match="authentication"):
        await EncryptionCodec([OLD]).decode([tampered])


def test_keys_are_validated_and_never_printed() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        key_from_base64("short", base64.b64encode(b"x" * 16).decode())
    with pytest.raises(ValueError, match="base64"):
        key_from_base64("bad", "not base64!")
    assert OLD.secret.hex() not in repr(OLD) and "2026-06" in repr(OLD)


def test_explicit_keys_come_newest_first_then_those_derived_from_the_secret_keys() -> None:
    explicit = Settings(
        payload_keys={k.key_id: base64.b64encode(k.secret).decode() for k in (NEW, OLD)},
        secret_key="still-decrypts-what-it-sealed",
    )
    assert codec_keys(explicit) == [NEW, OLD, derived_key("still-decrypts-what-it-sealed")]
    derived = codec_keys(Settings(secret_key="current", previous_secret_keys=["retired"]))
    assert derived == [derived_key("current"), derived_key("retired")]
    assert derived[0].key_id.startswith("d-") and "current" not in derived[0].key_id
    assert codec_keys(Settings()) == []


async def test_the_project_converter_encrypts_pydantic_values_and_failures() -> None:
    converter = data_converter(Settings(secret_key="k"))
    [payload] = await converter.encode(["esx01.example.test"])
    assert b"esx01" not in payload.data
    assert await converter.decode([payload], [str]) == ["esx01.example.test"]
    failure = Failure()
    await converter.encode_failure(RuntimeError("iDRAC 10.0.0.7 refused"), failure)
    assert b"10.0.0.7" not in failure.SerializeToString()
    assert await failure_message(converter, failure) == "iDRAC 10.0.0.7 refused"
