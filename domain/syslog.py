"""Audit entries as syslog messages (RFC 5424) in octet-counting frames (RFC 6587 3.4.1,
the framing RFC 5425 prescribes for TLS). Pure: the sender and the forwarder do the I/O.

A message looks like (one line; the MSG starts with a UTF-8 BOM)::

    <86>1 2026-12-05T20:28:40.123456Z orch1 idrac-orch 4242 create_datacenter
    [audit@32473 id="17" actor="carol" role="admin" action="create_datacenter"
    target="POST /datacenters" outcome="success" source="127.0.0.1" hash="9f..."] HTTP 201

``id`` is the entry's ``seq`` in the hash chain: unique, gapless and in order, so a receiver
that sees an id twice (the forwarder resends after a failure it cannot rule out) drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from domain.audit_chain import StoredEntry, canonical_time

APP_NAME = "idrac-orch"
# Private Enterprise Number 32473 is reserved for documentation and examples (RFC 5612);
# an organisation with its own PEN sets IDRAC_ORCH_AUDIT_SYSLOG_ENTERPRISE_ID.
DOCUMENTATION_PEN = 32473
SD_NAME = "audit"
NILVALUE = "-"
BOM = b"\xef\xbb\xbf"
# RFC 5424 6.: lengths of the header fields (PRINTUSASCII characters).
HOSTNAME_MAX, APP_NAME_MAX, PROCID_MAX, MSGID_MAX = 255, 48, 128, 32


class Facility(IntEnum):
    """RFC 5424 6.2.1 facility codes (the ones an audit trail plausibly goes to)."""

    USER = 1
    DAEMON = 3
    AUTH = 4
    AUTHPRIV = 10
    AUDIT = 13  # "log audit"
    LOCAL0 = 16
    LOCAL1 = 17
    LOCAL2 = 18
    LOCAL3 = 19
    LOCAL4 = 20
    LOCAL5 = 21
    LOCAL6 = 22
    LOCAL7 = 23


class Severity(IntEnum):
    """RFC 5424 6.2.1 severities."""

    EMERGENCY = 0
    ALERT = 1
    CRITICAL = 2
    ERROR = 3
    WARNING = 4
    NOTICE = 5
    INFORMATIONAL = 6
    DEBUG = 7


# An audit entry's outcome decides how loud its message is; unknown outcomes are notices.
_SEVERITY = {
    "success": Severity.INFORMATIONAL,
    "completed": Severity.INFORMATIONAL,
    "rejected": Severity.NOTICE,
    "aborted": Severity.NOTICE,
    "canceled": Severity.NOTICE,
    "failure": Severity.WARNING,
    "denied": Severity.WARNING,
    "held": Severity.WARNING,
    "halted": Severity.WARNING,
    "finished_with_failures": Severity.WARNING,
    "error": Severity.ERROR,
    "failed": Severity.ERROR,
    "terminated": Severity.ERROR,
    "timed_out": Severity.ERROR,
}


def severity_of(outcome: str) -> Severity:
    return _SEVERITY.get(outcome, Severity.NOTICE)


def pri(facility: Facility, severity: Severity) -> int:
    """PRIVAL = facility * 8 + severity (RFC 5424 6.2.1)."""
    return facility * 8 + severity


@dataclass(frozen=True)
class Origin:
    """Who sends: the header fields that do not come from the entry."""

    hostname: str
    procid: str
    facility: Facility = Facility.AUTHPRIV
    enterprise_id: int = DOCUMENTATION_PEN


def header_token(value: str | None, limit: int) -> str:
    """A header field: printable US-ASCII without spaces (others become ``_``), at most
    ``limit`` characters, NILVALUE when empty. An action such as ``POST (no route)`` still
    makes a valid MSGID; the SD parameter ``action`` keeps it unchanged."""
    if not value:
        return NILVALUE
    return "".join(c if 33 <= ord(c) <= 126 else "_" for c in value[:limit])


def escape_param(value: str) -> str:
    """PARAM-VALUE escaping (RFC 5424 6.3.3): ``"``, ``\\`` and ``]`` get a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(entry: StoredEntry, enterprise_id: int) -> str:
    """One SD-ELEMENT ``[audit@PEN ...]``; absent optional fields are left out."""
    fields = entry.fields
    params = {
        "id": str(fields.seq),
        "actor": fields.actor,
        "role": fields.role,
        "action": fields.action,
        "target": fields.target,
        "outcome": fields.outcome,
        "source": fields.source,
        "hash": entry.hash,
    }
    body = "".join(f' {k}="{escape_param(v)}"' for k, v in params.items() if v is not None)
    return f"[{SD_NAME}@{enterprise_id}{body}]"


def audit_message(entry: StoredEntry, origin: Origin) -> bytes:
    """The RFC 5424 SYSLOG-MSG for one audit entry, UTF-8 encoded."""
    fields = entry.fields
    header = " ".join(
        (
            f"<{pri(origin.facility, severity_of(fields.outcome))}>1",
            canonical_time(fields.occurred_at),
            header_token(origin.hostname, HOSTNAME_MAX),
            APP_NAME,
            header_token(origin.procid, PROCID_MAX),
            header_token(fields.action, MSGID_MAX),
        )
    )
    line = f"{header} {structured_data(entry, origin.enterprise_id)}".encode(errors="replace")
    if fields.detail is None:
        return line
    return line + b" " + BOM + fields.detail.encode(errors="replace")


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 3.4.1 / RFC 5425 4.3: ``MSG-LEN SP SYSLOG-MSG``, the length in octets."""
    return b"%d " % len(message) + message
