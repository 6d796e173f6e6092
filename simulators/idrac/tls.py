"""A throw-away certificate authority and one server certificate per simulated iDRAC, made
at simulator start.

Each iDRAC presents its own certificate naming its own address, as a real one does, so a
client that trusts the written CA file verifies TLS for real instead of switching
verification off. (One certificate naming every address grew to 10,000 names at 10,000
hosts, and every client handshake parsed all of them: docs/benchmarks.md.) The
certificates share one key: making 10,000 keys would only slow the start.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idrac-orch simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_tls(addresses: list[str], directory: Path) -> tuple[dict[str, ssl.SSLContext], Path]:
    """Write ca.pem, server.key and certs/ADDRESS.pem into DIRECTORY; return (each address's
    server context, the CA path)."""
    now = dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(hours=1), now + dt.timedelta(days=30))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("idrac-orch simulator CA"))
        .issuer_name(_name("idrac-orch simulator CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    certs = directory / "certs"
    certs.mkdir(exist_ok=True)
    contexts = {}
    for address in dict.fromkeys(addresses):
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"idrac-sim {address}"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0])
            .not_valid_after(valid[1])
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(address))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_path = certs / f"{address}.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        # A bare server context: create_default_context would load the system CAs, which
        # a server that asks for no client certificate never reads (1 ms per iDRAC).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.num_tickets = 0  # clients open one session per iDRAC; tickets are wasted work
        contexts[address] = context
    return contexts, ca_path
