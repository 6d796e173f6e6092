"""RFC 5424 formatting and RFC 6587 framing of audit entries, checked against an independent
parser (tests/services/syslog_receiver.py): any field value survives the trip."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.audit_chain import ChainedFields, StoredEntry
from domain.syslog import (
    BOM,
    Facility,
    Origin,
    Severity,
    audit_message,
    escape_param,
    header_token,
    octet_frame,
    pri,
)
from tests.services.syslog_receiver import deframe, parse

AT = datetime(2026, 12, 5, 20, 28, 40, 123456, tzinfo=UTC)
ORIGIN = Origin(hostname="orch1.example.test", procid="4242")


def entry(**changes: object) -> StoredEntry:
    values: dict[str, object] = {
        "seq": 17,
        "occurred_at": AT,
        "actor": "carol",
        "role": "admin",
        "action": "create_datacenter",
        "target": "POST /datacenters",
        "outcome": "success",
        "source": "127.0.0.1",
        "detail": "HTTP 201",
    }
    values.update(changes)
    return StoredEntry(ChainedFields(**values), prev_hash="0" * 64, hash="ab" * 32)  # type: ignore[arg-type]


def test_a_message_as_the_rfc_shows_it() -> None:
    assert audit_message(entry(), ORIGIN) == (
        b"<86>1 2026-12-05T20:28:40.123456Z orch1.example.test idrac-orch 4242 create_datacenter"
        b' [audit@32473 id="17" actor="carol" role="admin" action="create_datacenter"'
        b' target="POST /datacenters" outcome="success" source="127.0.0.1"'
        b' hash="' + b"ab" * 32 + b'"] ' + BOM + b"HTTP 201"
    )


def test_pri_and_severity_follow_the_outcome() -> None:
    assert pri(Facility.AUTHPRIV, Severity.INFORMATIONAL) == 86
    assert pri(Facility.LOCAL7, Severity.DEBUG) == 191
    for outcome, severity in (("error", 3), ("denied", 4), ("rejected", 5), ("new", 5)):
        assert parse(audit_message(entry(outcome=outcome), ORIGIN)).pri == 80 + severity


def test_absent_fields_are_left_out_and_msgid_is_a_token() -> None:
    parsed = parse(
        audit_message(entry(role=None, source=None, detail=None, action="POST (no route)"), ORIGIN)
    )
    assert "role" not in parsed.params and "source" not in parsed.params
    assert parsed.msg is None
    assert parsed.msgid == "POST_(no_route)"
    assert parsed.params["action"] == "POST (no route)"


def test_header_tokens() -> None:
    assert header_token("", 10) == "-"
    assert header_token(None, 10) == "-"
    assert header_token("a b\u00e9c", 10) == "a_b_c"
    assert header_token("x" * 40, 32) == "x" * 32


def test_escaping_by_example() -> None:
    assert escape_param('a"b\\c]d') == 'a\\"b\\\\c\\]d'


_text = st.text(max_size=300)


@given(
    actor=_text.filter(bool),
    action=_text.filter(bool),
    target=_text,
    detail=st.none() | _text,
    source=st.none() | _text,
)
def test_any_values_survive_formatting(
    actor: str, action: str, target: str, detail: str | None, source: str | None
) -> None:
    message = audit_message(
        entry(actor=actor, action=action, target=target, detail=detail, source=source), ORIGIN
    )
    parsed = parse(message)
    expected = {"id": "17", "actor": actor, "action": action, "target": target}
    assert {k: parsed.params[k] for k in expected} == expected
    assert parsed.params.get("source") == source
    assert parsed.msg == (None if detail is None else BOM + detail.encode())
    assert len(parsed.msgid) <= 32 and all(33 <= ord(c) <= 126 for c in parsed.msgid)
    assert (parsed.sd_id, parsed.app_name, parsed.procid) == ("audit@32473", "idrac-orch", "4242")


@given(st.text(alphabet='"\\] x', max_size=50))
def test_escaped_values_never_end_the_element_early(value: str) -> None:
    escaped = escape_param(value)
    # Every ", \ and ] in the output is preceded by an odd run of backslashes.
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert escaped[i + 1] in '"\\]'
            i += 2
            continue
        assert escaped[i] not in '"]'
        i += 1


@given(st.lists(st.binary(min_size=1, max_size=3000), max_size=20), st.data())
def test_frames_split_anywhere_come_back_whole(messages: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(octet_frame(m) for m in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    got, rest = [], b""
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        frames, rest = deframe(rest + stream[start:end])
        got += frames
    assert (got, rest) == (messages, b"")
