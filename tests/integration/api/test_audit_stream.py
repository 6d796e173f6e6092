"""GET /audit/stream against the real API (uvicorn, PostgreSQL): server-sent events in seq
order, resumable with ?after= or Last-Event-ID, following new entries live; and the
forwarder's status at GET /audit/forwarding."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx

from api.routes.audit import MAX_SEQ, STREAM_POLL_S, STREAM_RECHECK_POLLS
from api.security import Principal, issue_login_token, signing_key
from domain.roles import Role
from tests.integration.api.conftest import Api


def events(lines: Iterator[str]) -> Iterator[tuple[int, str, dict[str, object]]]:
    """(id, event, data) of each SSE event; comment lines are skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if fields:
                yield int(fields["id"]), fields["event"], json.loads(fields["data"])
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def _head(admin: httpx.Client) -> int:
    return int(admin.get("/audit", params={"limit": 1}).json()["items"][0]["seq"])


def test_backlog_in_order_and_resumable(api: Api, tokens: dict[str, str]) -> None:
    with api.client(tokens["admin"]) as admin:
        start = _head(admin)
        names = [f"stream-{uuid.uuid4().hex[:6]}" for _ in range(3)]
        for name in names:
            admin.post("/datacenters", json={"name": name, "timezone": "UTC"})
    with api.client(tokens["viewer"]) as viewer:
        response = viewer.get("/audit/stream", params={"after": start, "follow": "false"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        got = list(events(iter(response.text.split("\n"))))
        seqs = [seq for seq, _, _ in got]
        assert seqs == sorted(seqs) and seqs[0] == start + 1
        assert all(kind == "audit" and data["seq"] == seq for seq, kind, data in got)
        created = [d for _, _, d in got if d["action"] == "create_datacenter"][-3:]
        assert [d["target"] for d in created] == ["POST /datacenters"] * 3
        # A reconnecting EventSource sends Last-Event-ID with the same URL: it wins.
        resumed = viewer.get(
            "/audit/stream",
            params={"after": start, "follow": "false", "action": "create_datacenter"},
            headers={"Last-Event-ID": str(seqs[-2])},
        )
        assert [s for s, _, _ in events(iter(resumed.text.split("\n")))] == [
            s for s, _, d in got if s > seqs[-2] and d["action"] == "create_datacenter"
        ]


def test_new_entries_arrive_live(api: Api, tokens: dict[str, str]) -> None:
    with api.client(tokens["admin"]) as admin:
        head = _head(admin)
        params = {"after": str(head), "action": "create_datacenter"}
        with (
            api.client(tokens["viewer"]) as viewer,
            viewer.stream("GET", "/audit/stream", params=params) as stream,
        ):
            name = f"live-{uuid.uuid4().hex[:6]}"
            admin.post("/datacenters", json={"name": name, "timezone": "UTC"})
            seq, kind, data = next(events(stream.iter_lines()))
    assert seq > head and kind == "audit"
    assert (data["actor"], data["action"], data["outcome"]) == (
        "carol",
        "create_datacenter",
        "success",
    )


def test_the_stream_ends_when_the_token_expires(api: Api) -> None:
    principal = Principal("bob", Role.VIEWER, "ldap")
    now = datetime.now(UTC)
    token = issue_login_token(principal, signing_key(api.settings), 2, now)
    started = time.monotonic()
    with api.client(token) as viewer:
        response = viewer.get("/audit/stream", params={"action": "no-such-action"})
    assert response.status_code == 200
    assert time.monotonic() - started < 15


def test_the_stream_ends_when_its_api_token_is_revoked(api: Api, tokens: dict[str, str]) -> None:
    """A never-expiring API token was checked once at connect: its revocation must end an
    open stream within a few polls, not keep it open for ever."""
    with api.client(tokens["admin"]) as admin:
        created = admin.post("/auth/tokens", json={"name": "siem-tail", "role": "viewer"})
        assert created.status_code == 201
        token, token_id = created.json()["token"], created.json()["id"]
        head = _head(admin)
        params = {"after": str(head), "action": "create_datacenter"}
        with (
            api.client(token) as viewer,
            viewer.stream("GET", "/audit/stream", params=params) as stream,
        ):
            assert stream.status_code == 200
            lines = stream.iter_lines()
            # Past a re-check the valid token keeps the stream open: a new entry arrives.
            time.sleep((STREAM_RECHECK_POLLS + 1) * STREAM_POLL_S)
            name = f"revoke-{uuid.uuid4().hex[:6]}"
            admin.post("/datacenters", json={"name": name, "timezone": "UTC"})
            seq, _, data = next(events(lines))
            assert seq > head and data["action"] == "create_datacenter"
            assert admin.delete(f"/auth/tokens/{token_id}").status_code == 204
            revoked = time.monotonic()
            rest = list(lines)  # returns once the server ends the response
            ended_after = time.monotonic() - revoked
    assert [line for line in rest if line and not line.startswith(":")] == []
    # At most one re-check period of polls (plus the slack of a loaded machine).
    assert ended_after < (STREAM_RECHECK_POLLS + 3) * STREAM_POLL_S, ended_after
    with api.client(token) as revoked_client:
        assert revoked_client.get("/audit/stream").status_code == 401


def test_a_cursor_beyond_the_seq_column_is_422_naming_it(api: Api, tokens: dict[str, str]) -> None:
    """Was a 200 whose body broke inside the database call (seq is an INTEGER column)."""
    with api.client(tokens["viewer"]) as viewer:
        for after in (str(10**30), str(2**63), str(MAX_SEQ + 1)):
            response = viewer.get("/audit/stream", params={"after": after, "follow": "false"})
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["query", "after"]
            assert after not in response.text  # errors do not echo the submitted value
        resumed = viewer.get(
            "/audit/stream",
            params={"follow": "false"},
            headers={"Last-Event-ID": str(MAX_SEQ + 1)},
        )
        assert resumed.status_code == 422, resumed.text
        assert resumed.json()["detail"][0]["loc"] == ["header", "last-event-id"]
        # The largest cursor is still a stream (empty: nothing comes after it).
        last = viewer.get("/audit/stream", params={"after": str(MAX_SEQ), "follow": "false"})
        assert last.status_code == 200
        assert list(events(iter(last.text.split("\n")))) == []
        resumed = viewer.get(
            "/audit/stream",
            params={"follow": "false", "action": "no-such-action"},
            headers={"Last-Event-ID": str(MAX_SEQ)},
        )
        assert resumed.status_code == 200


def test_forwarding_status_for_admins(api: Api, tokens: dict[str, str]) -> None:
    with api.client(tokens["admin"]) as admin:
        status = admin.get("/audit/forwarding").json()
        head = _head(admin)
    assert status["configured"] is False  # this API has no IDRAC_ORCH_AUDIT_SYSLOG_HOST
    assert status["head_seq"] == head
    assert status["pending"] == status["head_seq"] - status["cursor_seq"]
    with api.client(tokens["viewer"]) as viewer:
        assert viewer.get("/audit/forwarding").status_code == 403
    with api.client() as anonymous:
        assert anonymous.get("/audit/stream").status_code == 401
