"""Real receivers on loopback for notification tests: an HTTP server that records what it
is sent (and answers as told), and an SMTP server (aiosmtpd) that requires STARTTLS."""

from __future__ import annotations

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

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.services.ports import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class HttpReceiver:
    """Records every POST; answers the next status in ``script`` (then 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> int:
        with self.lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else 200

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived")
            time.sleep(0.05)
        return list(self.requests)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    port = free_port()
    receiver = HttpReceiver(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen = Received(self.path, dict(self.headers.items()), body, time.monotonic())
            self.send_response(receiver.answer(seen))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    starttls_used: list[bool] = field(default_factory=list)

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.messages)} of {count} messages arrived")
            time.sleep(0.05)
        return list(self.messages)


@contextmanager
def smtp_server(
    cert: Path | None, key: Path | None, login: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    """aiosmtpd on loopback. With a certificate it offers STARTTLS and refuses mail (and
    logins) before it; without one it offers no STARTTLS at all."""
    server = SmtpServer("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, smtp_server: Any, session: Any, envelope: Any) -> str:
            server.messages.append(message_from_bytes(envelope.original_content))
            server.starttls_used.append(session.ssl is not None)
            return "250 OK"

    def authenticate(_: Any, __: Any, ___: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            login is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == login
        )
        return AuthResult(success=ok, handled=False)  # not handled: the server says 535

    options: dict[str, Any] = {}
    if cert is not None and key is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options = {"tls_context": context, "require_starttls": True}
    controller = Controller(
        Handler(),
        hostname=server.host,
        port=server.port,
        authenticator=authenticate,
        auth_require_tls=True,
        **options,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
