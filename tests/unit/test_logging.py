"""Secrets never reach a rendered log line, whichever way they are handed to a logger."""

from __future__ import annotations

import io
import json
import logging

import pytest

from common.logging import REDACTED, configure_logging, get_logger, redact_text, register_secret


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()  # not a TTY: JSON lines
    configure_logging("DEBUG", "auto", stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_secret_keys_are_masked_at_any_depth(log_stream: io.StringIO) -> None:
    get_logger("t").info(
        "login",
        username="root",
        password="calvin-pw",
        request={"headers": {"X-Auth-Token": "tok-123456", "Accept": "json"}},
        profiles=[{"api_key": "k-999999"}],
    )
    (line,) = _lines(log_stream)
    assert line["username"] == "root"
    assert line["password"] == REDACTED
    assert line["request"] == {"headers": {"X-Auth-Token": REDACTED, "Accept": "json"}}
    assert line["profiles"] == [{"api_key": REDACTED}]
    assert "calvin-pw" not in log_stream.getvalue()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST failed: password=calvin123 user=root", "calvin123"),
        ("header X-Auth-Token: 7f3a9b2c", "7f3a9b2c"),
        ("Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("connect postgresql://orch:s3cr3t@db:5432/orch", "s3cr3t"),
        ('{"Password": "Sup3r"}', "Sup3r"),
        ("send_request_headers [(b'X-Auth-Token', b'a1b2c3d4e5')]", "a1b2c3d4e5"),
    ],
)
def test_secrets_inside_free_text_are_masked(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert REDACTED in masked


def test_registered_secret_is_masked_in_messages_and_stdlib_records(
    log_stream: io.StringIO,
) -> None:
    register_secret("resolved-at-runtime-42")
    get_logger("t").warning("bmc said resolved-at-runtime-42 is wrong")
    logging.getLogger("third.party").error("retrying with resolved-at-runtime-42")
    text = log_stream.getvalue()
    assert "resolved-at-runtime-42" not in text
    assert [line["logger"] for line in _lines(log_stream)] == ["t", "third.party"]


def test_exceptions_are_rendered_redacted(log_stream: io.StringIO) -> None:
    try:
        raise RuntimeError("login failed with password=hunter2")
    except RuntimeError:
        get_logger("t").exception("update failed")
    (line,) = _lines(log_stream)
    assert "hunter2" not in json.dumps(line)
    assert "RuntimeError" in str(line["exception"])


def test_context_bound_per_request_is_in_every_line(log_stream: io.StringIO) -> None:
    import structlog

    with structlog.contextvars.bound_contextvars(campaign_id="c-1", service_tag="AMS0001"):
        get_logger("t").info("step", step="enter_maintenance")
    (line,) = _lines(log_stream)
    assert (line["campaign_id"], line["service_tag"]) == ("c-1", "AMS0001")


def test_console_format_on_request() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream)
    get_logger("t").info("hello", token="abc12345")
    text = stream.getvalue()
    assert "hello" in text and "abc12345" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
