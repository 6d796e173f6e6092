"""The most specific credential profile wins, and the explanation says why."""

from __future__ import annotations

from domain.credential_scope import ProfileScope, Scope, ServerFacts, resolve, scope_key

GLOBAL = ProfileScope(1, "default", Scope.GLOBAL)
DC = ProfileScope(2, "ams", Scope.DATACENTER, datacenter_id=10)
WIDE = ProfileScope(3, "wide", Scope.CIDR, cidr="10.0.0.0/8")
NARROW = ProfileScope(4, "narrow", Scope.CIDR, cidr="10.1.2.0/24")
HOST = ProfileScope(5, "one-host", Scope.HOST, server_id=99)
ALL = [GLOBAL, DC, WIDE, NARROW, HOST]


def test_host_override_beats_everything() -> None:
    result = resolve(ALL, ServerFacts(99, "10.1.2.3", 10))
    assert (result.profile_id, result.scope) == (5, Scope.HOST)
    assert [c.split(" ")[0] for c in result.considered] == [
        "one-host",
        "narrow",
        "wide",
        "ams",
        "default",
    ]


def test_longest_prefix_wins_among_ranges() -> None:
    result = resolve(ALL, ServerFacts(1, "10.1.2.3", 10))
    assert result.profile_id == 4
    assert "10.1.2.3 is inside 10.1.2.0/24" in result.reason


def test_range_beats_datacenter_and_datacenter_beats_global() -> None:
    assert resolve(ALL, ServerFacts(1, "10.9.9.9", 10)).profile_id == 3
    assert resolve(ALL, ServerFacts(1, "192.0.2.7", 10)).profile_id == 2
    assert resolve(ALL, ServerFacts(1, "192.0.2.7", 11)).profile_id == 1


def test_hostname_address_skips_ranges() -> None:
    result = resolve(ALL, ServerFacts(1, "idrac-r650.example.test", 10))
    assert result.profile_id == 2


def test_ipv6_and_ipv4_never_match_each_other() -> None:
    v6 = ProfileScope(6, "v6", Scope.CIDR, cidr="2001:db8::/32")
    assert resolve([v6, GLOBAL], ServerFacts(1, "10.1.2.3", None)).profile_id == 1
    assert resolve([v6, GLOBAL], ServerFacts(1, "[2001:db8::5]", None)).profile_id == 6


def test_nothing_matches() -> None:
    result = resolve([DC], ServerFacts(1, "10.1.2.3", None))
    assert result.profile_id is None
    assert result.reason == "no profile matches this server"


def test_scope_keys_are_canonical() -> None:
    assert scope_key(Scope.CIDR, None, "10.1.2.0/24", None) == "cidr:10.1.2.0/24"
    assert scope_key(Scope.HOST, None, None, 4) == "host:4"
    assert scope_key(Scope.GLOBAL, None, None, None) == "global"
