"""Discovery: which addresses to probe, what a probe found, and what changed since last time.

Pure: no I/O, no clock. The workflow carries a ``DiscoveryRequest`` (ranges, never
secrets: a credential profile id at most); activities expand it into addresses with
``chunk_addresses`` so that 16,384 addresses never sit in a workflow history.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_ADDRESSES = 65_536  # a /16: larger sweeps are split by the operator, on purpose
CHUNK_SIZE = 4_096  # addresses per scan activity (one retry rescans at most this many)
DEFAULT_CONCURRENCY = 256
DEFAULT_CONNECT_TIMEOUT_S = 3.0
DEFAULT_ADDRESS_TIMEOUT_S = 15.0
WORKFLOW_NAME = "DiscoveryWorkflow"


def parse_range(text: str) -> IpNetwork:
    """A CIDR range or a single address; host bits set is a mistake, not a guess."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise ValueError(f"{text!r} has host bits set (did you mean its network?)") from None
        raise ValueError(f"{text!r} is not an IP address or CIDR range") from None


def _range(text: str) -> str:
    return str(parse_range(text))


Range = Annotated[str, Field(max_length=64), AfterValidator(_range)]


def _addresses(network: IpNetwork) -> Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every usable address: a range's network and broadcast addresses hold no iDRAC."""
    return network.hosts() if network.num_addresses > 2 else iter(network)


class DiscoveryRequest(BaseModel):
    """What one discovery scans and how hard it may push the network."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ranges: list[Range] = Field(
        min_length=1, max_length=256, examples=[["10.20.0.0/22", "10.20.8.15"]]
    )
    exclude: list[Range] = Field(default_factory=list, max_length=1024)
    port: int = Field(default=443, ge=1, le=65535, description="Redfish HTTPS port")
    concurrency: int = Field(
        default=DEFAULT_CONCURRENCY, ge=1, le=2048, description="addresses probed at once"
    )
    connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0, le=60)
    address_timeout_s: float = Field(
        default=DEFAULT_ADDRESS_TIMEOUT_S,
        gt=0,
        le=300,
        description="the whole probe of one address (a socket that never answers ends here)",
    )
    credential_profile_id: int | None = Field(
        default=None,
        ge=1,
        description="profile to try; default: the most specific global or CIDR profile",
    )
    enroll: bool = Field(
        default=True, description="enroll what answers as a Redfish service, for validation"
    )
    validate_enrolled: bool = Field(
        default=False,
        description="then validate what this run found (onboarding validation, as a child "
        "workflow): their servers are created or linked",
    )

    @model_validator(mode="after")
    def _bounded(self) -> DiscoveryRequest:
        total = sum(parse_range(r).num_addresses for r in self.ranges)
        if total > MAX_ADDRESSES * 4:  # cheap bound before expanding
            raise ValueError(f"ranges: {total} addresses, more than {MAX_ADDRESSES} allowed")
        count = len(target_addresses(self))
        if count == 0:
            raise ValueError("ranges: every address is excluded; nothing to scan")
        if count > MAX_ADDRESSES:
            raise ValueError(f"ranges: {count} addresses, more than {MAX_ADDRESSES} allowed")
        return self


def target_addresses(request: DiscoveryRequest) -> list[str]:
    """Addresses to probe: the ranges minus the exclusions, each once, in order."""
    excluded = [parse_range(r) for r in request.exclude]
    seen: dict[str, None] = {}
    for text in request.ranges:
        for address in _addresses(parse_range(text)):
            if not any(address in net for net in excluded if net.version == address.version):
                seen.setdefault(str(address), None)
    return list(seen)


def chunk_count(request: DiscoveryRequest) -> int:
    return -(-len(target_addresses(request)) // CHUNK_SIZE)


def chunk_addresses(request: DiscoveryRequest, index: int) -> list[str]:
    return target_addresses(request)[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE]


def in_ranges(address: str, request: DiscoveryRequest) -> bool:
    """Whether the request scanned ADDRESS (so its silence means "gone")."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    inside = any(ip in parse_range(r) for r in request.ranges)
    return inside and not any(ip in parse_range(r) for r in request.exclude)


# --- what a probe finds ------------------------------------------------------------------


class Frozen(BaseModel):
    """Workflow and activity I/O: immutable, built from ids and facts, never secrets."""

    model_config = ConfigDict(frozen=True)


class TlsStatus(StrEnum):
    TRUSTED = "trusted"
    SELF_SIGNED = "self-signed"
    EXPIRED = "expired"
    NAME_MISMATCH = "name-mismatch"
    UNTRUSTED = "untrusted"  # signed by a CA we do not trust
    NOT_CHECKED = "not-checked"  # insecure mode, by explicit opt-in


class CredentialStatus(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    NO_PROFILE = "no-profile"
    NOT_SENT = "not-sent"  # the certificate is not trusted: no password goes to it
    ERROR = "error"  # the login answered something else (busy, session limit, ...)


_GENERATION = re.compile(r"\b(\d{2})G\b")
_IDRAC_OF_SERVER_GENERATION = {12: "iDRAC7", 13: "iDRAC8", 14: "iDRAC9", 15: "iDRAC9", 16: "iDRAC9"}


def idrac_generation(manager_model: str | None, firmware: str | None) -> str | None:
    """iDRAC7/8/9/10 from the manager's model ("15G Monolithic"), else the firmware major.

    iDRAC9 firmware runs 3.x-7.x, iDRAC8 2.x; iDRAC10 (17G) restarted at 1.x, so a bare
    1.x without a model says nothing.
    """
    match = _GENERATION.search(manager_model or "")
    if match:
        server_generation = int(match.group(1))
        if server_generation >= 17:
            return "iDRAC10"
        return _IDRAC_OF_SERVER_GENERATION.get(server_generation)
    major = (firmware or "").split(".", 1)[0]
    if major.isdigit() and 3 <= int(major) <= 7:
        return "iDRAC9"
    return "iDRAC8" if major == "2" else None


class Endpoint(Frozen):
    """One address that answered a Redfish service root, and what it told us."""

    address: str
    port: int
    tls: TlsStatus
    redfish_version: str | None = None
    vendor: str | None = None
    product: str | None = None
    model: str | None = None
    service_tag: str | None = None
    generation: str | None = None
    firmware_version: str | None = None
    credentials: CredentialStatus
    credential_profile_id: int | None = None
    detail: str | None = None

    def facts(self) -> dict[str, str | None]:
        """What a re-run compares: identity, firmware and whether we can log in."""
        return {
            "vendor": self.vendor,
            "model": self.model,
            "service_tag": self.service_tag,
            "generation": self.generation,
            "firmware_version": self.firmware_version,
            "redfish_version": self.redfish_version,
            "tls": self.tls.value,
            "credentials": self.credentials.value,
        }


class Change(Frozen):
    address: str
    fields: dict[str, tuple[str | None, str | None]] = Field(description="field -> (was, now)")


class DiscoveryDiff(Frozen):
    new: list[str] = Field(default_factory=list)
    gone: list[str] = Field(default_factory=list)
    changed: list[Change] = Field(default_factory=list)
    unchanged: int = 0


def diff_endpoints(
    before: dict[str, dict[str, str | None]], after: dict[str, dict[str, str | None]]
) -> DiscoveryDiff:
    """Address -> facts of the previous knowledge (inside the scanned ranges) and this run.

    A fact this run could not read (no login: no service tag) is not a change."""
    changed = []
    for address in sorted(set(before) & set(after), key=_order):
        fields = {
            name: (before[address].get(name), value)
            for name, value in after[address].items()
            if value is not None and before[address].get(name) != value  # None: not seen now
        }
        if fields:
            changed.append(Change(address=address, fields=fields))
    return DiscoveryDiff(
        new=sorted(set(after) - set(before), key=_order),
        gone=sorted(set(before) - set(after), key=_order),
        changed=changed,
        unchanged=len(set(before) & set(after)) - len(changed),
    )


def _order(address: str) -> tuple[int, int | str]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, address)
    return (ip.version, int(ip))


# --- workflow I/O ------------------------------------------------------------------------


class DiscoveryStart(Frozen):
    run_id: int
    request: DiscoveryRequest


class ScanChunk(DiscoveryStart):
    index: int = Field(ge=0)


class ChunkResult(Frozen):
    scanned: int
    answered: int


class DiscoverySummary(Frozen):
    """The workflow's result; the lists themselves are read from the store (API/CLI)."""

    run_id: int
    scanned: int
    answered: int
    new: int
    gone: int
    changed: int
    unchanged: int
    enrolled: int
    validated: int | None = None
    passed: int | None = None


def discovery_workflow_id(run_id: int) -> str:
    return f"discovery-{run_id}"


def discovery_validation_id(run_id: int) -> str:
    return f"{discovery_workflow_id(run_id)}-validation"
