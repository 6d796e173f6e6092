"""A syslog receiver on loopback (TCP or TLS, octet-counting framing) and an RFC 5424
parser, written from the RFCs rather than from domain/syslog.py so that a bug in the
formatter cannot hide behind the same bug here."""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.services.ports import free_port

BOM = b"\xef\xbb\xbf"
_HEADER = re.compile(
    rb"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) "
)


@dataclass(frozen=True)
class Parsed:
    """A SYSLOG-MSG taken apart (RFC 5424 6.)."""

    pri: int
    timestamp: str
    hostname: str
    app_name: str
    procid: str
    msgid: str
    sd_id: str
    params: dict[str, str]
    msg: bytes | None


def deframe(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Octet-counted frames (RFC 6587 3.4.1) complete in ``buffer``, and the rest."""
    frames = []
    while b" " in buffer:
        length_text, rest = buffer.split(b" ", 1)
        if not length_text.isdigit() or length_text.startswith(b"0"):
            raise ValueError(f"bad MSG-LEN {length_text[:20]!r}")
        length = int(length_text)
        if len(rest) < length:
            break
        frames.append(rest[:length])
        buffer = rest[length:]
    return frames, buffer


def _sd_element(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """One SD-ELEMENT at the start of ``data`` (escapes undone), and what follows it."""
    if not data.startswith(b"["):
        raise ValueError("no SD-ELEMENT")
    sd_id_end = min(i for i in (data.find(b" "), data.find(b"]")) if i > 0)
    sd_id, pos, params = data[1:sd_id_end].decode("ascii"), sd_id_end, {}
    while data[pos : pos + 1] == b" ":
        eq = data.index(b'="', pos)
        name, pos, value = data[pos + 1 : eq].decode("ascii"), eq + 2, bytearray()
        while data[pos : pos + 1] != b'"':
            if data[pos : pos + 1] == b"\\" and data[pos + 1 : pos + 2] in (b'"', b"\\", b"]"):
                pos += 1
            elif data[pos : pos + 1] == b"]":
                raise ValueError("unescaped ] in PARAM-VALUE")
            value += data[pos : pos + 1]
            pos += 1
        params[name] = value.decode("utf-8")
        pos += 1
    if data[pos : pos + 1] != b"]":
        raise ValueError("SD-ELEMENT not closed")
    return sd_id, params, data[pos + 1 :]


def parse(message: bytes) -> Parsed:
    header = _HEADER.match(message)
    if header is None:
        raise ValueError(f"not an RFC 5424 header: {message[:80]!r}")
    sd_id, params, rest = _sd_element(message[header.end() :])
    if rest and not rest.startswith(b" "):
        raise ValueError("no SP between STRUCTURED-DATA and MSG")
    return Parsed(
        pri=int(header["pri"]),
        timestamp=header["ts"].decode(),
        hostname=header["host"].decode(),
        app_name=header["app"].decode(),
        procid=header["proc"].decode(),
        msgid=header["msgid"].decode(),
        sd_id=sd_id,
        params=params,
        msg=rest[1:] if rest else None,
    )


@dataclass
class SyslogReceiver:
    """Every frame received, in order, over all connections and per connection. With
    ``stall_after`` it stops reading once that many frames arrived, until ``resume`` is set
    (a slow receiver: the sender's writes block once the socket buffers are full)."""

    port: int
    frames: list[bytes] = field(default_factory=list)
    connections: list[list[bytes]] = field(default_factory=list)
    stall_after: int | None = None
    resume: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout_s: float = 60.0) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while len(self.frames) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.frames)} of {count} frames arrived")
            time.sleep(0.02)
        return list(self.frames)

    @staticmethod
    def ids(frames: list[bytes]) -> list[int]:
        return [int(parse(f).params["id"]) for f in frames]

    def serve(self, conn: socket.socket) -> None:
        mine: list[bytes] = []
        with self.lock:
            self.connections.append(mine)
            stalls = self.stall_after is not None and len(self.frames) < self.stall_after
        if not stalls:  # only a connection that is to stall keeps the listener's small window
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        buffer = b""
        with conn:
            while chunk := conn.recv(65536):
                frames, buffer = deframe(buffer + chunk)
                for item in frames:
                    with self.lock:
                        self.frames.append(item)
                        mine.append(item)
                    if stalls and len(self.frames) == self.stall_after:
                        self.resume.wait()
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)


@contextmanager
def syslog_receiver(
    tls: ssl.SSLContext | None = None, stall_after: int | None = None
) -> Iterator[SyslogReceiver]:
    """A receiver on 127.0.0.1; with ``tls`` every connection must complete its handshake."""
    port = free_port()
    receiver = SyslogReceiver(port, stall_after=stall_after)
    listener = socket.socket()
    # A small window (inherited by accepted sockets): a stalled receiver soon blocks writes.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            if tls is not None:
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()
                    continue
            threading.Thread(target=receiver.serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
