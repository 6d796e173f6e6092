"""HTTPS servers on loopback answering a Redfish service root with a bad certificate:
self-signed, or signed by a trusted CA but expired (what real iDRACs ship or drift into)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = {"@odata.id": "/redfish/v1", "RedfishVersion": "1.11.0", "Vendor": "Dell"}


class _Root(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(ROOT).encode() if self.path == "/redfish/v1" else b"{}"
        self.send_response(200 if self.path == "/redfish/v1" else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


def _certificate(
    address: str,
    directory: Path,
    expired: bool,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = dt.datetime.now(dt.UTC)
    valid = (
        (now - dt.timedelta(days=400), now - dt.timedelta(days=1))
        if expired
        else (
            now - dt.timedelta(hours=1),
            now + dt.timedelta(days=30),
        )
    )
    signer_name, signer_key = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .sign(signer_key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{address}.pem", directory / f"{address}.key"
    cert_path.write_bytes(pem(cert))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def site_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA the tests trust (beside the simulator's), to sign a certificate that expired."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onboarding test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=800))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def bad_tls_server(
    address: str,
    port: int,
    directory: Path,
    *,
    expired: bool = False,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> Iterator[None]:
    context = _certificate(address, directory, expired, issuer)
    server = ThreadingHTTPServer((address, port), _Root)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
