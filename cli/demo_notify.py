"""The demo's notification receivers, on loopback only: a webhook endpoint and an SMTP
server (STARTTLS with its own certificate, which the worker trusts through
IDRAC_ORCH_NOTIFY_CA_BUNDLE), and a held host whose ``host.held`` event reaches both.

start both receivers before the stack (the worker reads the CA bundle at start)
create a signed webhook channel and an e-mail channel, each with a host.held rule
make the host that failed with nothing flashed keep its old BIOS after its next update
(simulator fault), run a campaign on it with on_failure: hold: it ends held
print what each receiver got: the webhook's event (signature checked) and the e-mail
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import typer

from cli.demo_follow import report_outcomes
from cli.demo_inventory import POLICY, post
from simulators.loopback_tls import loopback_certificate

LOOPBACK = "127.0.0.1"
RECEIVE_TIMEOUT_S = 60
MAIL_TO = "oncall@demo.test"


@dataclass
class Receivers:
    """What the local webhook endpoint and SMTP server received."""

    webhook_url: str
    smtp_port: int
    ca_bundle: Path
    hmac_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    hooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    mails: list[tuple[Message, bool]] = field(default_factory=list)  # (message, STARTTLS)

    def signed(self, headers: dict[str, str], body: bytes) -> bool:
        stamp = headers.get("X-Idrac-Orch-Timestamp", "")
        mac = hmac.new(self.hmac_key.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        return hmac.compare_digest(
            headers.get("X-Idrac-Orch-Signature", ""), f"sha256={mac.hexdigest()}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_receivers(directory: Path) -> Iterator[Receivers]:
    """Both receivers on 127.0.0.1 until the block ends."""
    from aiosmtpd.controller import Controller  # installed with the demo's extras

    cert, key = loopback_certificate(directory, "smtp")
    http = ThreadingHTTPServer((LOOPBACK, 0), BaseHTTPRequestHandler)
    receivers = Receivers(
        f"http://{LOOPBACK}:{http.server_address[1]}/demo-hook", _free_port(), cert
    )

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receivers.hooks.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet: the demo prints what arrived itself."""

    class Mailbox:
        async def handle_DATA(self, _: Any, session: Any, envelope: Any) -> str:
            message = message_from_bytes(envelope.original_content)
            receivers.mails.append((message, session.ssl is not None))
            return "250 OK"

    http.RequestHandlerClass = Hook
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    smtp = Controller(
        Mailbox(),
        hostname=LOOPBACK,
        port=receivers.smtp_port,
        tls_context=context,
        require_starttls=True,
    )
    thread.start()
    smtp.start()
    try:
        yield receivers
    finally:
        smtp.stop()
        http.shutdown()
        http.server_close()


def add_channels(api: httpx.Client, receivers: Receivers) -> None:
    """A signed webhook and an e-mail channel, each hearing host.held."""
    hook = post(
        api,
        "/notifications/channels",
        name="demo-webhook",
        kind="webhook",
        config={"url": receivers.webhook_url},
        secret=receivers.hmac_key,
    )
    mail = post(
        api,
        "/notifications/channels",
        name="demo-mail",
        kind="email",
        config={
            "host": LOOPBACK,
            "port": receivers.smtp_port,
            "sender": "idrac-orch@demo.test",
            "recipients": [MAIL_TO],
        },
    )
    for channel in (hook, mail):
        post(api, "/notifications/rules", channel_id=channel["id"], kinds=["host.held"])


def run_held_host(
    api: httpx.Client, receivers: Receivers, control_url: str, tag: str, spec: dict[str, Any]
) -> bool:
    """TAG's next update leaves its BIOS as it was; with on_failure: hold it stays in
    maintenance for a human, and host.held reaches the webhook and the mailbox."""
    faults = {"job_fails": None, "version_unchanged": True}
    httpx.post(f"{control_url}/hosts/{tag}/faults", json=faults, timeout=10).raise_for_status()
    spec = {
        **spec,
        "targets": {"service_tags": [tag]},
        "policy": {**POLICY, "on_failure": "hold"},
    }
    campaign = post(api, "/campaigns", name=f"demo: {tag} held", spec=spec)
    api.post(f"/campaigns/{campaign['id']}/start").raise_for_status()
    typer.echo(f"Campaign {campaign['id']} started: {tag} again, its update will not take (hold)")
    outcomes, _ = report_outcomes(api, int(str(campaign["id"])))
    if outcomes.get(tag) != "held":
        typer.echo(f"Notifications: UNEXPECTED: {tag} ended {outcomes.get(tag)}, not held")
        return False
    return _report_received(receivers, tag)


def _report_received(receivers: Receivers, tag: str) -> bool:
    subject = f"host {tag} "
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S
    while time.monotonic() < deadline:
        hooks = [(h, b) for h, b in receivers.hooks if subject in json.loads(b)["subject"]]
        mails = [(m, tls) for m, tls in receivers.mails if subject in str(m["Subject"])]
        if hooks and mails:
            break
        time.sleep(0.2)
    else:
        typer.echo(
            f"Notifications: UNEXPECTED: {len(receivers.hooks)} webhook call(s), "
            f"{len(receivers.mails)} e-mail(s) received for the held host {tag}"
        )
        return False
    headers, body = hooks[0]
    event, signed = json.loads(body), receivers.signed(headers, body)
    message, starttls = mails[0]
    typer.echo(
        f"Held host {tag}: webhook delivery received by the local receiver "
        f"{receivers.webhook_url} ({event['kind']}, signature "
        f"{'verified' if signed else 'WRONG'})"
    )
    typer.echo(
        f"Held host {tag}: e-mail received by the local SMTP server {LOOPBACK}:"
        f"{receivers.smtp_port} ({'STARTTLS' if starttls else 'CLEAR TEXT'}) for "
        f"{message['To']}: {message['Subject']}"
    )
    return signed and starttls
