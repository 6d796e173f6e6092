"""A ServiceNow instance's Table API, the subset a change-request integration speaks, built
from ServiceNow's public documentation (docs/notifications.md lists the pages):

- ``GET /api/now/table/change_request`` with ``sysparm_query`` (``field=value`` terms joined
  by ``^``, i.e. AND), ``sysparm_fields`` and ``sysparm_limit``: ``{"result": [...]}``;
- ``POST /api/now/table/change_request``: 201, ``{"result": record}`` with a generated
  32-hex ``sys_id`` and a ``CHG00300nn`` number, state ``-5`` (New);
- ``GET``/``PATCH /api/now/table/change_request/{sys_id}``: ``{"result": record}``, 404 if
  unknown. ``work_notes`` is a journal field: each write adds an entry (kept in
  ``notes``), and it reads back empty as through the Table API without display values;
- basic auth or a bearer token, 401 otherwise; errors as ``{"error": {"message",
  "detail"}, "status": "failure"}``;
- one fault knob: ``fail_next(n, status)`` answers the next n requests with that status.

A real HTTP server on loopback; it knows nothing of the orchestrator's client.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TABLE_PATH = "/api/now/table/"
TABLE = "change_request"
NEW_STATE = "-5"
FIRST_NUMBER = 30001


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


@dataclass
class Instance:
    """The instance's state; tests read ``records`` and ``notes`` and set faults."""

    users: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # sys_id -> record
    notes: dict[str, list[str]] = field(default_factory=dict)  # sys_id -> work notes
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    faults: list[HTTPStatus] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(self, count: int, status: HTTPStatus = HTTPStatus.SERVICE_UNAVAILABLE) -> None:
        with self.lock:
            self.faults = [status] * count

    def find(self, **wanted: str) -> list[dict[str, str]]:
        return [r for r in self.records.values() if all(r.get(k) == v for k, v in wanted.items())]

    # ---- the API --------------------------------------------------------------------

    def handle(
        self, method: str, target: str, authorization: str | None, body: bytes
    ) -> tuple[HTTPStatus, Any]:
        with self.lock:
            self.requests.append((method, target))
            if self.faults:
                status = self.faults.pop(0)
                raise ApiError(status, status.phrase, "injected fault")
            self.authenticate(authorization)
            url = urlsplit(target)
            if not url.path.startswith(TABLE_PATH):
                raise ApiError(
                    HTTPStatus.BAD_REQUEST, "Requested URI does not represent any resource"
                )
            table, _, sys_id = url.path[len(TABLE_PATH) :].partition("/")
            if table != TABLE:
                raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid table {table}")
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET" and not sys_id:
                return HTTPStatus.OK, self.list(query)
            if method == "POST" and not sys_id:
                return HTTPStatus.CREATED, self.insert(_fields(body))
            if method == "GET":
                return HTTPStatus.OK, self.record(sys_id)
            if method in ("PATCH", "PUT"):
                return HTTPStatus.OK, self.update(sys_id, _fields(body))
            raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "Method not Supported")

    def authenticate(self, authorization: str | None) -> None:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(credentials).decode().partition(":")
            if user in self.users and self.users[user] == password:
                return
        elif scheme.lower() == "bearer" and credentials in self.tokens:
            return
        raise ApiError(
            HTTPStatus.UNAUTHORIZED,
            "User Not Authenticated",
            "Required to provide Auth information",
        )

    def list(self, query: dict[str, str]) -> list[dict[str, str]]:
        terms = [t.partition("=") for t in query.get("sysparm_query", "").split("^") if t]
        found = self.find(**{name: value for name, _, value in terms})
        found = found[: int(query.get("sysparm_limit", "10000"))]
        names = [n for n in query.get("sysparm_fields", "").split(",") if n]
        return [{n: r.get(n, "") for n in names} if names else r for r in found]

    def insert(self, fields: dict[str, str]) -> dict[str, str]:
        now = _now()
        sys_id = uuid.uuid4().hex
        record = {
            "state": NEW_STATE,
            **{k: v for k, v in fields.items() if k != "work_notes"},
            "sys_id": sys_id,
            "number": f"CHG{FIRST_NUMBER + len(self.records):07d}",
            "sys_created_on": now,
            "sys_updated_on": now,
            "work_notes": "",
        }
        self.records[sys_id] = record
        self.notes[sys_id] = [fields["work_notes"]] if fields.get("work_notes") else []
        return record

    def record(self, sys_id: str) -> dict[str, str]:
        if sys_id not in self.records:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "No Record found",
                "Record doesn't exist or ACL restricts the record retrieval",
            )
        return self.records[sys_id]

    def update(self, sys_id: str, fields: dict[str, str]) -> dict[str, str]:
        record = self.record(sys_id)
        if fields.get("work_notes"):
            self.notes[sys_id].append(fields["work_notes"])
        protected = {"sys_id", "number", "sys_created_on", "work_notes"}
        record.update({k: v for k, v in fields.items() if k not in protected})
        record["sys_updated_on"] = _now()
        return record


def _fields(body: bytes) -> dict[str, str]:
    try:
        fields = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, "Exception while reading request") from None
    if not isinstance(fields, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "Exception while reading request")
    return {str(k): "" if v is None else str(v) for k, v in fields.items()}


def _now() -> str:
    """ServiceNow's ``yyyy-MM-dd HH:mm:ss`` (UTC here)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@contextmanager
def servicenow(
    users: dict[str, str] | None = None, tokens: set[str] | None = None, port: int = 0
) -> Iterator[Instance]:
    """The instance, served on 127.0.0.1 (``port`` 0: any free one) until the block ends."""
    instance = Instance(users=dict(users or {}), tokens=set(tokens or ()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def do_PATCH(self) -> None:
            self.answer()

        def do_PUT(self) -> None:
            self.answer()

        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                status, result = instance.handle(
                    self.command, self.path, self.headers.get("Authorization"), body
                )
                payload: dict[str, Any] = {"result": result}
            except ApiError as error:
                status = error.status
                payload = {
                    "error": {"message": error.message, "detail": error.detail},
                    "status": "failure",
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    instance.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield instance
    finally:
        server.shutdown()
        server.server_close()
