"""Typed Redfish errors. Each carries the iDRAC MessageId (if any) and a one-line reason.

iDRAC registry prefixes vary (``IDRAC.2.1.``, ``IDRAC.2.8.``, ``iDRAC.1.6.``), so
MessageIds are compared on their suffix (``SUP024``), never on the full string.
"""

from __future__ import annotations

from typing import Any

# MessageId suffixes that mean "busy, try again later" (reference §10).
BUSY_MESSAGE_IDS = frozenset({"RAC0679", "LC068", "SYS518", "SUP0108"})
SESSION_LIMIT_MESSAGE_IDS = frozenset({"RAC0218"})


def message_id_suffix(message_id: str | None) -> str | None:
    return message_id.rsplit(".", 1)[-1] if message_id else None


def plain_text(text: Any) -> str | None:
    """A BMC message as one line: iDRACs join sentences with no-break spaces (DRS #266)
    and some BMCs send empty strings (bmclib Supermicro task captures); None if empty."""
    if not isinstance(text, str):
        return None
    return " ".join(text.split()) or None


def extended_info(document: Any) -> list[dict[str, Any]]:
    """The @Message.ExtendedInfo entries of an error body (a list, or one bare object)."""
    if not isinstance(document, dict):
        return []
    holder = document.get("error", document)
    info = holder.get("@Message.ExtendedInfo") if isinstance(holder, dict) else None
    if isinstance(info, dict):
        return [info]
    return [entry for entry in info or [] if isinstance(entry, dict)]


def first_message(document: Any) -> tuple[str | None, str | None]:
    """(MessageId, Message) of the first ExtendedInfo entry, else of the error itself."""
    entries = extended_info(document)
    if entries:
        return plain_text(entries[0].get("MessageId")), plain_text(entries[0].get("Message"))
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        return plain_text(error.get("code")), plain_text(error.get("message"))
    return None, None


class RedfishError(Exception):
    """Any failure talking to a BMC; ``str()`` is one line naming the host and reason."""

    def __init__(
        self,
        reason: str,
        *,
        host: str = "",
        status: int | None = None,
        message_id: str | None = None,
    ) -> None:
        self.reason = reason
        self.host = host
        self.status = status
        self.message_id = message_id
        super().__init__(f"{host}: {reason}" if host else reason)

    def has_message_id(self, suffix: str) -> bool:
        return message_id_suffix(self.message_id) == suffix


class RedfishConnectionError(RedfishError):
    """The BMC did not answer (refused, reset, timed out) after the allowed retries."""


class RedfishTLSError(RedfishConnectionError):
    """The BMC's certificate was not trusted: pass a CA bundle, or opt in to insecure."""


class AuthenticationError(RedfishError):
    """The BMC rejected the credentials."""


class SessionLimitError(RedfishError):
    """All of the iDRAC's sessions are in use (RAC0218); leaked ones expire after idle time."""


class BusyError(RedfishError):
    """The BMC kept answering "busy" (503 / RAC0679 / SYS518 ...) after the allowed retries."""


class NotFoundError(RedfishError):
    """A resource the client needed does not exist."""


class UnsupportedError(RedfishError):
    """The BMC does not offer what was asked (no multipart push, no job queue, ...)."""


class AuthSchemeError(UnsupportedError):
    """The BMC refused the authentication scheme (e.g. HTTP Basic), not the credentials."""


class LifecycleNotReadyError(RedfishError):
    """The Lifecycle Controller (or a generic BMC's system) did not become ready in time."""


class HostNotBackError(RedfishError):
    """The host did not go down after a reset request, or did not come back in time."""


class IdracOfflineError(RedfishError):
    """The iDRAC stayed unreachable longer than allowed (e.g. during its own update)."""


class JobFailedError(RedfishError):
    """An update job ended in failure; message_id is the job's MessageId."""


class JobTimeoutError(RedfishError):
    """A job made no terminal progress within its time limit (a hung job)."""


class VerificationError(RedfishError):
    """The job said success, but the inventory shows the firmware did not change as asked."""
