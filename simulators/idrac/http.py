"""A small HTTP/1.1 server (asyncio + h11) that listens on many loopback addresses.

Each simulated iDRAC owns one address; taking it offline closes its listener and
drops its open connections, so clients see "connection refused" exactly as when a
real iDRAC resets. One process, one port, any number of addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import h11

log = logging.getLogger("simulators.idrac.http")
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    local_address: str

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(
        cls, status: int, document: Any, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        body = json.dumps(document).encode()
        return cls(status, body, [("Content-Type", "application/json"), *(headers or [])])


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    """Serves one handler on (address, port) pairs that can be opened and closed at will."""

    def __init__(self, handler: Handler, ssl_contexts: dict[str, ssl.SSLContext] | None) -> None:
        """SSL_CONTEXTS: each address's own TLS (its own certificate); None: plain HTTP."""
        self._handler = handler
        self._ssl = ssl_contexts
        self._servers: dict[str, asyncio.Server] = {}
        self._writers: dict[str, set[asyncio.StreamWriter]] = {}

    async def listen(self, address: str, port: int) -> None:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.CancelledError):  # process shutting down
                await self._serve(address, reader, writer)

        self._servers[address] = await asyncio.start_server(
            serve,
            address,
            port,
            ssl=self._ssl[address] if self._ssl is not None else None,
            reuse_address=True,
            backlog=256,
        )

    def is_listening(self, address: str) -> bool:
        return address in self._servers

    def port_of(self, address: str) -> int:
        return self._servers[address].sockets[0].getsockname()[1]

    async def unlisten(self, address: str) -> None:
        """Stop answering on ADDRESS: new connections are refused, open ones are cut."""
        server = self._servers.pop(address, None)
        if server is not None:
            server.close()
        for writer in list(self._writers.get(address, ())):
            writer.transport.abort()

    async def close(self) -> None:
        for address in list(self._servers):
            await self.unlisten(address)

    async def _serve(
        self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._writers.setdefault(address, set()).add(writer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                request = await _read_request(conn, reader, address)
                if request is None:
                    break
                try:
                    response = await self._handler(request)
                except Exception:
                    log.exception("handler failed for %s %s", request.method, request.path)
                    response = Response.json(500, {"error": {"code": "Base.1.0.InternalError"}})
                if address not in self._servers:
                    break  # went offline while handling: the client sees a dropped connection
                writer.write(_encode(conn, response))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, ssl.SSLError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers[address].discard(writer)
            writer.transport.abort()


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, address: str
) -> Request | None:
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and conn.their_state is h11.IDLE:
                return None
            continue
        if isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise h11.RemoteProtocolError("body too large")
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            target = urlsplit(head.target.decode())
            return Request(
                method=head.method.decode(),
                path=unquote(target.path).rstrip("/") or "/",
                query=dict(parse_qsl(target.query, keep_blank_values=True)),
                headers={k.decode().lower(): v.decode() for k, v in head.headers},
                body=bytes(body),
                local_address=address,
            )
        elif isinstance(event, h11.ConnectionClosed):
            return None


_REASONS = {200: b"OK", 201: b"Created", 202: b"Accepted", 204: b"No Content"}


def _encode(conn: h11.Connection, response: Response) -> bytes:
    headers = [*response.headers, ("Content-Length", str(len(response.body)))]
    head = h11.Response(
        status_code=response.status, headers=headers, reason=_REASONS.get(response.status, b"")
    )
    parts = [conn.send(head)]
    if response.body:
        parts.append(conn.send(h11.Data(data=response.body)))
    parts.append(conn.send(h11.EndOfMessage()))
    return b"".join(p or b"" for p in parts)
