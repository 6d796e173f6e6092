"""Which credential profile applies to a server: the most specific scope wins.

Order: host override > IP range (longest prefix first) > datacenter > global. A CIDR scope
only matches an iDRAC addressed by IP; a hostname falls through to the coarser scopes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Scope(StrEnum):
    GLOBAL = "global"
    DATACENTER = "datacenter"
    CIDR = "cidr"
    HOST = "host"


@dataclass(frozen=True)
class ProfileScope:
    profile_id: int
    name: str
    scope: Scope
    datacenter_id: int | None = None
    cidr: str | None = None
    server_id: int | None = None


@dataclass(frozen=True)
class ServerFacts:
    server_id: int
    idrac_address: str
    datacenter_id: int | None


@dataclass(frozen=True)
class Resolution:
    profile_id: int | None
    name: str | None
    scope: Scope | None
    reason: str
    considered: tuple[str, ...]


def scope_key(
    scope: Scope, datacenter_id: int | None, cidr: str | None, server_id: int | None
) -> str:
    """The identity of a scope; unique across profiles so that no two can tie."""
    match scope:
        case Scope.GLOBAL:
            return "global"
        case Scope.DATACENTER:
            return f"datacenter:{datacenter_id}"
        case Scope.CIDR:
            return f"cidr:{normalize_cidr(cidr or '')}"
        case Scope.HOST:
            return f"host:{server_id}"


def normalize_cidr(cidr: str) -> str:
    """Canonical network text; raises ValueError for a malformed range or host bits set."""
    return str(ipaddress.ip_network(cidr, strict=True))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _rank(profile: ProfileScope, server: ServerFacts) -> tuple[int, int] | None:
    """(level, prefix length) when the profile matches the server, else None."""
    if profile.scope is Scope.HOST:
        return (3, 0) if profile.server_id == server.server_id else None
    if profile.scope is Scope.CIDR:
        address = _address(server.idrac_address)
        network: IpNetwork = ipaddress.ip_network(profile.cidr or "")
        if address is not None and address.version == network.version and address in network:
            return (2, network.prefixlen)
        return None
    if profile.scope is Scope.DATACENTER:
        matches = server.datacenter_id is not None and profile.datacenter_id == server.datacenter_id
        return (1, 0) if matches else None
    return (0, 0)


def _why(profile: ProfileScope, server: ServerFacts) -> str:
    match profile.scope:
        case Scope.HOST:
            return f"host override for server {server.server_id}"
        case Scope.CIDR:
            return f"iDRAC address {server.idrac_address} is inside {profile.cidr}"
        case Scope.DATACENTER:
            return f"server is in datacenter {server.datacenter_id}"
        case Scope.GLOBAL:
            return "global default"


def resolve(profiles: list[ProfileScope], server: ServerFacts) -> Resolution:
    ranked = sorted(
        ((rank, p) for p in profiles if (rank := _rank(p, server)) is not None),
        key=lambda pair: pair[0],
        reverse=True,
    )
    considered = tuple(f"{p.name} ({p.scope}): {_why(p, server)}" for _, p in ranked)
    if not ranked:
        return Resolution(None, None, None, "no profile matches this server", considered)
    winner = ranked[0][1]
    reason = f"most specific match: {_why(winner, server)}"
    return Resolution(winner.profile_id, winner.name, winner.scope, reason, considered)
