"""Directory logins give exactly the rights the user's groups grant; everything else fails."""

from __future__ import annotations

import pytest

from api.routes.auth import _authenticate
from api.state import AppState
from common.settings import Settings
from integrations.ldap import LdapAuthError, LdapUnavailableError
from tests.integration.api.conftest import BREAKGLASS_PASSWORD, PASSWORDS, Api


@pytest.mark.parametrize(
    ("user", "role"), [("bob", "viewer"), ("alice", "operator"), ("carol", "admin")]
)
def test_directory_user_gets_the_role_of_their_groups(api: Api, user: str, role: str) -> None:
    token = api.login(user, PASSWORDS[user])
    with api.client(token) as client:
        me = client.get("/auth/me").json()
    assert me == {"name": user, "role": role, "via": "ldap", "approver": False}


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong-password"),
        ("dave", PASSWORDS["dave"]),  # valid directory user, but no mapped group
        ("nobody", "whatever"),
        ("breakglass", "not-the-password"),
    ],
)
def test_bad_logins_are_refused_without_saying_why(api: Api, username: str, password: str) -> None:
    with api.client(source="127.0.0.3") as client:
        response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid credentials"}


@pytest.mark.parametrize(
    "username",
    [
        "al*",  # unescaped, this wildcard would find alice and log in with her password
        "*",
        "alice)(uid=*",
        "*)(|(uid=*",
        "alice)(|(objectClass=*)",
        "al\\2a",
        "alice\x00",
        "(uid=alice)",
    ],
)
def test_ldap_injection_fails_closed(api: Api, username: str) -> None:
    with api.client(source="127.0.0.4") as client:
        response = client.post(
            "/auth/login", json={"username": username, "password": PASSWORDS["alice"]}
        )
    assert response.status_code == 401, response.text


def test_empty_password_never_reaches_an_unauthenticated_bind(api: Api) -> None:
    with api.client() as client:
        response = client.post("/auth/login", json={"username": "alice", "password": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]
    state = AppState.build(api.settings, engine=None)  # type: ignore[arg-type]
    assert state.ldap is not None
    with pytest.raises(LdapAuthError, match="empty password"):
        state.ldap.authenticate("alice", "")


def test_break_glass_admin_only_when_configured(api: Api) -> None:
    token = api.login("breakglass", BREAKGLASS_PASSWORD)
    with api.client(token) as client:
        assert client.get("/auth/me").json()["role"] == "admin"
    unconfigured = Settings(
        ldap_url=None, breakglass_username="breakglass", breakglass_password_hash=None
    )
    state = AppState.build(unconfigured, engine=None)  # type: ignore[arg-type]
    principal, why = _authenticate(state, "breakglass", BREAKGLASS_PASSWORD)
    assert principal is None and why == "directory logins are not configured"


def test_failed_logins_are_rate_limited_per_user_and_source(api: Api) -> None:
    limit = api.settings.login_max_failures
    with api.client(source="127.0.0.5") as client:
        for _ in range(limit):
            bad = client.post("/auth/login", json={"username": "bob", "password": "nope"})
            assert bad.status_code == 401
        locked = client.post("/auth/login", json={"username": "bob", "password": PASSWORDS["bob"]})
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        other_user = client.post(
            "/auth/login", json={"username": "alice", "password": PASSWORDS["alice"]}
        )
        assert other_user.status_code == 200
    with api.client(source="127.0.0.6") as elsewhere:
        response = elsewhere.post(
            "/auth/login", json={"username": "bob", "password": PASSWORDS["bob"]}
        )
        assert response.status_code == 200


def test_tokens_are_required_and_checked(api: Api) -> None:
    with api.client() as anonymous:
        assert anonymous.get("/servers").status_code == 401
    with api.client("not-a-token") as forged:
        assert forged.get("/servers").status_code == 401
    with api.client("ido_guessed-token-value") as guessed:
        assert guessed.get("/servers").status_code == 401


def test_api_token_is_scoped_to_its_role_and_revocable(api: Api, tokens: dict[str, str]) -> None:
    with api.client(tokens["admin"]) as admin:
        created = admin.post("/auth/tokens", json={"name": "ci", "role": "viewer"})
        assert created.status_code == 201
        token, token_id = created.json()["token"], created.json()["id"]
        listed = admin.get("/auth/tokens").json()["items"]
        assert all("token" not in item and "token_hash" not in item for item in listed)
    with api.client(token) as automation:
        assert automation.get("/auth/me").json() == {
            "name": "token:ci",
            "role": "viewer",
            "via": "api-token",
            "approver": False,  # API tokens never carry the approver right
        }
        assert automation.get("/servers").status_code == 200
        denied = automation.post("/datacenters", json={"name": "x", "timezone": "UTC"})
        assert denied.status_code == 403
    with api.client(tokens["admin"]) as admin:
        assert admin.delete(f"/auth/tokens/{token_id}").status_code == 204
    with api.client(token) as automation:
        assert automation.get("/servers").status_code == 401


def test_start_tls_failure_never_falls_back_to_clear_text(api: Api) -> None:
    """The test directory speaks no TLS: with StartTLS required, nobody logs in."""
    strict = api.settings.model_copy(update={"ldap_start_tls": True})
    state = AppState.build(strict, engine=None)  # type: ignore[arg-type]
    assert state.ldap is not None
    with pytest.raises(LdapUnavailableError, match=r"StartTLS failed|directory error"):
        state.ldap.authenticate("alice", PASSWORDS["alice"])
