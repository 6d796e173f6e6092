"""structlog set-up shared by the API, the worker and the CLI.

Configured once per process. Every event passes through :func:`redact_secrets`, so a
password or token handed to a logger by mistake is masked before it is rendered.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from temporalio import activity

REDACTED = "***"

# Keys whose values are secrets, wherever they appear in an event (nested too).
_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|authorization|"
    r"cookie|credential|^pwd$|^key$)",
    re.IGNORECASE,
)
# Secrets embedded in free text: "password=x", "X-Auth-Token: y", "Bearer z", URL userinfo.
_SECRET_IN_TEXT = [
    re.compile(
        r"(?i)((?:pass(?:word|wd)?|secret|token|api[-_]?key|pwd)['\"]?\s*[=:]\s*['\"]?)[^\s'\",;&]+"
    ),
    re.compile(r"(?i)(x-auth-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",;]+"),
    # Header tuples as HTTP libraries print them: (b'X-Auth-Token', b'...')
    re.compile(r"(?i)((?:x-auth-token|authorization|cookie)['\"],\s*b?['\"])[^'\"]+"),
    re.compile(r"(?i)((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),
]
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value in every later log event (for secrets resolved at run time)."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def _mask_match(match: re.Match[str]) -> str:
    """Keep the label (group 1) and any closing delimiter (group 2); mask the value."""
    closing = match.group(2) if match.re.groups > 1 else ""
    return match.group(1) + REDACTED + (closing or "")


def redact_text(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_IN_TEXT:
        text = pattern.sub(_mask_match, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, tuple):
        return tuple(_redact(v) for v in value)
    if isinstance(value, list | set | frozenset):
        return [_redact(v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


def redact_secrets(
    _: Any, __: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    return _redact(event_dict)


def add_temporal_context(
    _: Any, __: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Bind the workflow and activity an activity log line belongs to."""
    if activity.in_activity():
        info = activity.info()
        event_dict.setdefault("workflow_id", info.workflow_id)
        event_dict.setdefault("workflow_run_id", info.workflow_run_id)
        event_dict.setdefault("activity", info.activity_type)
        event_dict.setdefault("attempt", info.attempt)
    return event_dict


def _render_json(settings_format: str, stream: Any) -> bool:
    if settings_format == "json":
        return True
    if settings_format == "console":
        return False
    return not (hasattr(stream, "isatty") and stream.isatty())


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Route structlog and stdlib logging through one redacting pipeline."""
    stream = stream or sys.stderr
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_temporal_context,
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if _render_json(fmt, stream)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers; send its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
