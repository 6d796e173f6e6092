"""Sends octet-counted syslog frames over TCP (RFC 6587) or TLS (RFC 5425) on one kept
connection, reconnecting after any failure.

Syslog has no acknowledgement: a frame counts as accepted once ``sendall`` handed it to the
kernel. Before each send the connection is checked for a close from the receiver's side
(a receiver restarted while we were idle), which would otherwise swallow the next batch.
"""

from __future__ import annotations

import selectors
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from integrations.notify.errors import DeliveryError


@dataclass(frozen=True)
class SyslogTarget:
    host: str
    port: int
    transport: Literal["tcp", "tls"] = "tls"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    timeout_s: float = 10.0

    @property
    def address(self) -> str:
        return f"{self.transport}://{self.host}:{self.port}"


class SyslogSender:
    def __init__(self, target: SyslogTarget) -> None:
        self.target = target
        self._sock: socket.socket | None = None
        self._context: ssl.SSLContext | None = None
        if target.transport == "tls":
            context = ssl.create_default_context(
                cafile=str(target.ca_file) if target.ca_file else None
            )
            if target.cert_file is not None:
                context.load_cert_chain(target.cert_file, target.key_file)
            self._context = context

    def send(self, frames: Sequence[bytes]) -> None:
        """All ``frames`` written in order, or DeliveryError (the connection is then
        dropped, and the next call reconnects)."""
        try:
            if self._sock is not None and _closed_by_peer(self._sock):
                self.close()
            if self._sock is None:
                self._sock = self._connect()
            self._sock.sendall(b"".join(frames))
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise DeliveryError(
                f"{self.target.address}: certificate not trusted: {exc.verify_message}",
                retryable=False,
            ) from None
        except OSError as exc:
            self.close()
            raise DeliveryError(
                f"{self.target.address}: {type(exc).__name__}: {exc}", retryable=True
            ) from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(
            (self.target.host, self.target.port), timeout=self.target.timeout_s
        )
        if self._context is None:
            return sock
        try:
            return self._context.wrap_socket(sock, server_hostname=self.target.host)
        except BaseException:
            sock.close()
            raise


def _closed_by_peer(sock: socket.socket) -> bool:
    """A syslog receiver never sends data: a readable socket means EOF or reset (TLS may
    also deliver a session ticket, which the non-blocking read consumes)."""
    # A selector, not select.select: that raises ValueError for descriptors >= 1024, which a
    # worker process with many connections open reaches.
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        if not selector.select(0):
            return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)
