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


Signer = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _issue(
    common_name: str,
    days: tuple[float, float],
    signer: Signer | None,
    extension: x509.ExtensionType,
) -> Signer:
    """A certificate valid from now+days[0] to now+days[1]; self-signed without SIGNER."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = (signer[0].subject, signer[1]) if signer else (name, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(extension, critical=isinstance(extension, x509.BasicConstraints))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key


def site_ca() -> Signer:
    """A CA the tests trust (beside the simulator's), to sign a certificate that expired."""
    return _issue(
        "onboarding test CA", (-800, 30), None, x509.BasicConstraints(ca=True, path_length=0)
    )


def _server_context(
    address: str, directory: Path, expired: bool, issuer: Signer | None
) -> ssl.SSLContext:
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))])
    cert, key = _issue(address, (-400, -1) if expired else (-1, 30), issuer, san)
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


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def bad_tls_server(
    address: str,
    port: int,
    directory: Path,
    *,
    expired: bool = False,
    issuer: Signer | None = None,
) -> Iterator[None]:
    context = _server_context(address, directory, expired, issuer)
    server = ThreadingHTTPServer((address, port), _Root)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
