"""The most specific credential profile wins, and the explanation says why."""

from __future__ import annotations

from domain.credential_scope import LoginFor, ProfileScope, Scope, ServerFacts, resolve, scope_key

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


def test_the_profile_that_opened_the_idrac_beats_ranges_but_not_a_host_override() -> None:
    opened_by_global = ServerFacts(1, "10.1.2.3", 10, opened_by=GLOBAL.profile_id)
    result = resolve(ALL, opened_by_global)
    assert result.profile_id == GLOBAL.profile_id
    assert result.reason == "most specific match: it opened this iDRAC at onboarding"
    assert result.candidates == (1, 4, 3, 2)  # then the rest, most specific first
    override = ServerFacts(99, "10.1.2.3", 10, opened_by=GLOBAL.profile_id)
    assert resolve(ALL, override).profile_id == HOST.profile_id


def test_idrac_and_vcenter_logins_never_cross() -> None:
    vc_global = ProfileScope(7, "vc", Scope.GLOBAL, login_for=LoginFor.VCENTER)
    vc_dc = ProfileScope(
        8, "vc-ams", Scope.DATACENTER, datacenter_id=10, login_for=LoginFor.VCENTER
    )
    everything = [*ALL, vc_global, vc_dc]
    assert resolve(everything, ServerFacts(1, "192.0.2.7", 11)).candidates == (1,)
    vcenter = ServerFacts(0, "10.1.2.3", 10, login_for=LoginFor.VCENTER)
    assert resolve(everything, vcenter).candidates == (8, 7)
    assert resolve(ALL, vcenter).reason == "no profile matches this vCenter: add a vCenter login"


def test_vcenter_scope_keys_do_not_collide_with_idrac_ones() -> None:
    vc = scope_key(Scope.GLOBAL, None, None, None, LoginFor.VCENTER)
    assert vc == "vcenter:global" != scope_key(Scope.GLOBAL, None, None, None)
