"""Login tokens, break-glass password hashes and the failed-login limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.ratelimit import LoginLimiter
from api.security import (
    Principal,
    _from_login_token,
    hash_api_token,
    hash_password,
    issue_login_token,
    new_api_token,
    verify_password,
)
from domain.roles import Role, highest

KEY = b"k" * 32
ALICE = Principal("alice", Role.OPERATOR, "ldap")


def test_login_token_round_trip_expiry_and_forgery() -> None:
    now = datetime.now(UTC)
    token = issue_login_token(ALICE, KEY, 900, now)
    assert _from_login_token(token, KEY) == ALICE
    assert _from_login_token(token, b"x" * 32) is None
    expired = issue_login_token(ALICE, KEY, 60, now - timedelta(seconds=120))
    assert _from_login_token(expired, KEY) is None
    header, payload, signature = token.split(".")
    assert _from_login_token(f"{header}.{payload}.{signature[::-1]}", KEY) is None


def test_api_tokens_are_random_and_only_hashes_are_kept() -> None:
    token, digest = new_api_token()
    other, _ = new_api_token()
    assert token != other and token.startswith("ido_")
    assert digest == hash_api_token(token) and token not in digest


def test_password_hash() -> None:
    encoded = hash_password("break-glass-pw")
    assert "break-glass-pw" not in encoded
    assert verify_password("break-glass-pw", encoded)
    assert not verify_password("break-glass-px", encoded)
    assert not verify_password("anything", "not-a-hash")


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.includes(Role.OPERATOR) and not Role.VIEWER.includes(Role.OPERATOR)
    assert highest([Role.VIEWER, Role.ADMIN, Role.OPERATOR]) is Role.ADMIN
    assert highest([]) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_counts_per_user_and_source_and_forgets_after_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(3, 60, clock)
    for _ in range(3):
        assert limiter.retry_after("Alice", "10.0.0.1") is None
        limiter.failed("alice", "10.0.0.1")
    assert limiter.retry_after("ALICE", "10.0.0.1") == 60
    assert limiter.retry_after("alice", "10.0.0.2") is None  # another source
    assert limiter.retry_after("bob", "10.0.0.1") is None  # another user
    clock.now += 61
    assert limiter.retry_after("alice", "10.0.0.1") is None


def test_success_clears_the_count() -> None:
    limiter = LoginLimiter(2, 60, Clock())
    limiter.failed("alice", "s")
    limiter.succeeded("alice", "s")
    limiter.failed("alice", "s")
    assert limiter.retry_after("alice", "s") is None
