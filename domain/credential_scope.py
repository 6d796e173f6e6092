"""Which credential profile applies to an iDRAC or a vCenter: the most specific scope wins.

Order: host override > the profile that opened the iDRAC at onboarding > IP range (longest
prefix first) > datacenter > global. A CIDR scope only matches an address written as an IP;
a hostname falls through to the coarser scopes. iDRAC and vCenter logins are separate
hierarchies: a vCenter never gets an iDRAC's password, nor the other way round.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class LoginFor(StrEnum):
    IDRAC = "idrac"
    VCENTER = "vcenter"


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
    login_for: LoginFor = LoginFor.IDRAC


@dataclass(frozen=True)
class ServerFacts:
    """What decides the login: for a vCenter, ``server_id`` is 0 and the address its own."""

    server_id: int
    idrac_address: str
    datacenter_id: int | None
    opened_by: int | None = None  # the profile that opened this iDRAC at onboarding
    login_for: LoginFor = LoginFor.IDRAC


@dataclass(frozen=True)
class Resolution:
    profile_id: int | None
    name: str | None
    scope: Scope | None
    reason: str
    considered: tuple[str, ...]
    candidates: tuple[int, ...] = ()  # every profile that applies, most specific first


def scope_key(
    scope: Scope,
    datacenter_id: int | None,
    cidr: str | None,
    server_id: int | None,
    login_for: LoginFor = LoginFor.IDRAC,
) -> str:
    """The identity of a scope; unique across profiles so that no two can tie."""
    if login_for is LoginFor.VCENTER:
        return f"vcenter:{scope_key(scope, datacenter_id, cidr, server_id)}"
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
    if profile.login_for is not server.login_for:
        return None
    if profile.scope is Scope.HOST:
        return (4, 0) if profile.server_id == server.server_id else None
    if profile.profile_id == server.opened_by:
        return (3, 0)
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
    if profile.profile_id == server.opened_by and profile.scope is not Scope.HOST:
        return "it opened this iDRAC at onboarding"
    match profile.scope:
        case Scope.HOST:
            return f"host override for server {server.server_id}"
        case Scope.CIDR:
            return f"address {server.idrac_address} is inside {profile.cidr}"
        case Scope.DATACENTER:
            return f"it is in datacenter {server.datacenter_id}"
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
        what = "server" if server.login_for is LoginFor.IDRAC else "vCenter: add a vCenter login"
        return Resolution(None, None, None, f"no profile matches this {what}", considered)
    winner = ranked[0][1]
    reason = f"most specific match: {_why(winner, server)}"
    candidates = tuple(p.profile_id for _, p in ranked)
    return Resolution(winner.profile_id, winner.name, winner.scope, reason, considered, candidates)
