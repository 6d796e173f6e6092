"""TLS and mutual TLS to Temporal from settings, against a real server.

The dev server speaks no TLS, so a TLS-terminating relay stands in front of it, the way
a load balancer or Temporal Cloud's front door does: it requires a client certificate
signed by our test CA and forwards the decrypted gRPC stream to the dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio.testing import WorkflowEnvironment

from common.settings import Settings
from common.temporal import connect, tls_config


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path  # signed by a CA the relay does not trust
    stranger_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    usage: ExtendedKeyUsageOID | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = issuer or (_name(subject), key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=usage is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            names = [x509.DNSName("temporal.test"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = _issue("test CA", None, None)
    ca, _ = _write(directory, "ca", ca_cert, ca_key)
    signer = (ca_cert.subject, ca_key)
    server = _write(
        directory, "server", *_issue("temporal.test", signer, ExtendedKeyUsageOID.SERVER_AUTH)
    )
    client = _write(directory, "client", *_issue("worker", signer, ExtendedKeyUsageOID.CLIENT_AUTH))
    other_ca = _issue("other CA", None, None)
    stranger = _write(
        directory,
        "stranger",
        *_issue("intruder", (other_ca[0].subject, other_ca[1]), ExtendedKeyUsageOID.CLIENT_AUTH),
    )
    return Pki(ca, *server, *client, *stranger)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest_asyncio.fixture(scope="module")
async def relay(pki: Pki, temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """TLS on a loopback port, client certificate required, forwarding to the dev server."""
    target_host, target_port = temporal_env.client.service_client.config.target_host.rsplit(":", 1)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            target_host, int(target_port)
        )
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    async with server:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"


def _settings(address: str, **tls: object) -> Settings:
    return Settings(temporal_address=address, temporal_tls=True, **tls)


def _mtls(pki: Pki) -> dict[str, object]:
    return {
        "temporal_tls_ca_file": pki.ca,
        "temporal_tls_cert_file": pki.client_cert,
        "temporal_tls_key_file": pki.client_key,
        "temporal_tls_server_name": "temporal.test",
    }


async def test_mutual_tls_connects_and_runs_calls(pki: Pki, relay: str) -> None:
    client = await connect(_settings(relay, **_mtls(pki)))
    assert await client.service_client.check_health()
    assert [w async for w in client.list_workflows("WorkflowType = 'none'")] == []


async def test_an_api_key_is_sent_over_tls(pki: Pki, relay: str) -> None:
    """The dev server ignores the key; this proves it is configured on a TLS connection
    (Temporal Cloud itself cannot be reached from here)."""
    client = await connect(_settings(relay, temporal_api_key="cloud-key-123", **_mtls(pki)))
    assert client.api_key == "cloud-key-123"
    assert await client.service_client.check_health()


@pytest.mark.parametrize("case", ["no client certificate", "untrusted client", "unknown server CA"])
async def test_tls_failures_refuse_to_connect(pki: Pki, relay: str, case: str) -> None:
    tls: dict[str, object] = {
        "no client certificate": {"temporal_tls_ca_file": pki.ca},
        "untrusted client": {
            "temporal_tls_ca_file": pki.ca,
            "temporal_tls_cert_file": pki.stranger_cert,
            "temporal_tls_key_file": pki.stranger_key,
        },
        "unknown server CA": {  # system roots do not know our test CA
            "temporal_tls_cert_file": pki.client_cert,
            "temporal_tls_key_file": pki.client_key,
        },
    }[case]
    # The relay hangs up on a client without an accepted certificate; the client hangs up
    # on a server certificate from an unknown CA.
    why = "UnknownIssuer" if case == "unknown server CA" else None
    with pytest.raises(RuntimeError, match=why):
        client = await asyncio.wait_for(connect(_settings(relay, **tls)), timeout=20)
        await client.service_client.check_health()


def test_settings_map_to_the_sdk_tls_and_api_key(pki: Pki) -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    assert tls_config(Settings(temporal_api_key="cloud-key")) is True  # Cloud implies TLS
    mtls = tls_config(
        Settings(temporal_tls_cert_file=pki.client_cert, temporal_tls_key_file=pki.client_key)
    )
    assert not isinstance(mtls, bool) and mtls.client_cert == pki.client_cert.read_bytes()
    with pytest.raises(ValueError, match="go together"):
        tls_config(Settings(temporal_tls_cert_file=pki.client_cert))
