"""No secret in any response body or header, log line or audit entry: captured and searched.

Every secret the session used (directory passwords, the service account's, break-glass,
the encryption key, credential-profile passwords, API tokens after issue) is searched for
in everything the service emitted while being exercised, including its error paths.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import create_engine, text

from tests.integration.api.conftest import (
    BREAKGLASS_PASSWORD,
    PASSWORDS,
    SECRET_KEY,
    SERVICE_PASSWORD,
    Api,
    LogTee,
)

PROFILE_PASSWORD = "Idrac-Calvin-Secret-4242"
ROTATED_PASSWORD = "Idrac-Rotated-Secret-8686"


def test_no_secret_anywhere(api: Api, tokens: dict[str, str], captured_logs: LogTee) -> None:
    seen: list[str] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response.text)
        seen.extend(f"{k}: {v}" for k, v in response.headers.items())

    hooks = {"response": [record]}
    with httpx.Client(base_url=api.url, event_hooks=hooks, timeout=30) as client:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        # Logins: good, bad, with the password in odd places.
        client.post("/auth/login", json={"username": "alice", "password": PASSWORDS["alice"]})
        client.post("/auth/login", json={"username": "alice", "password": PASSWORDS["bob"]})
        # A password typed into the user name field must not end up as the audit actor.
        client.post("/auth/login", json={"username": PASSWORDS["carol"], "password": "x"})
        client.post("/auth/login", json={"username": "breakglass", "password": BREAKGLASS_PASSWORD})
        client.post("/auth/login", json={"username": "bob", "password": "p" * 2000})
        # Credential profiles: create, update, and every validation error path with a secret.
        name = f"leak-{uuid.uuid4().hex[:6]}"
        created = client.post(
            "/credential-profiles",
            headers=admin,
            json={
                "name": name,
                "scope": "cidr",
                "cidr": "192.0.2.0/24",
                "username": "root",
                "password": PROFILE_PASSWORD,
            },
        )
        assert created.status_code == 201
        profile_id = created.json()["id"]
        client.patch(
            f"/credential-profiles/{profile_id}", headers=admin, json={"password": ROTATED_PASSWORD}
        )
        client.post(
            "/credential-profiles",
            headers=admin,
            json={
                "name": name,
                "scope": "global",
                "cidr": "10.0.0.0/8",
                "username": "root",
                "password": PROFILE_PASSWORD,
            },
        )
        client.post(
            "/credential-profiles",
            headers=admin,
            json={
                "name": name,
                "scope": "cidr",
                "cidr": "not-a-network",
                "username": "root",
                "password": PROFILE_PASSWORD,
            },
        )
        client.post(
            "/credential-profiles",
            headers=admin,
            json={
                "name": "x",
                "scope": "global",
                "username": "root",
                "password": PROFILE_PASSWORD + "y" * 300,
            },
        )
        client.post(
            "/credential-profiles",
            headers=admin,
            json={
                "name": "x",
                "scope": "global",
                "username": "root",
                "password": PROFILE_PASSWORD,
                "unexpected": PROFILE_PASSWORD,
            },
        )
        client.patch(
            f"/credential-profiles/{profile_id}",
            headers=admin,
            json={"password": None, "note": ROTATED_PASSWORD},
        )
        client.post(
            "/credential-profiles",
            json={
                "name": "anon",
                "scope": "global",
                "username": "root",
                "password": PROFILE_PASSWORD,
            },
        )
        client.get(f"/credential-profiles/{profile_id}", headers=admin)
        client.get("/credential-profiles", headers=admin)
        client.get("/audit", headers=admin, params={"limit": 500})
        client.get("/audit/export.csv", headers=admin)
        token = client.post(
            "/auth/tokens", headers=admin, json={"name": "leak-check", "role": "viewer"}
        ).json()["token"]
        client.get("/metrics")

    secrets = [
        PROFILE_PASSWORD,
        ROTATED_PASSWORD,
        SECRET_KEY,
        SERVICE_PASSWORD,
        BREAKGLASS_PASSWORD,
        *PASSWORDS.values(),
    ]
    issued_once = seen.index(next(s for s in seen if token in s))
    haystacks = {
        "responses": "\n".join(s for i, s in enumerate(seen) if i != issued_once),
        "logs": captured_logs.text(),
        "audit": _audit_dump(api),
    }
    for where, haystack in haystacks.items():
        assert haystack, f"nothing captured from {where}"
        for secret in secrets:
            assert secret not in haystack, f"{secret[:4]}... found in {where}"
        assert token not in haystack or where == "responses", f"API token found in {where}"
    ciphertext = _raw_profile_bytes(api, profile_id)
    assert ROTATED_PASSWORD.encode() not in ciphertext and len(ciphertext) > 12


def _audit_dump(api: Api) -> str:
    engine = create_engine(api.settings.effective_database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_events ORDER BY seq")).all()
    engine.dispose()
    return "\n".join(str(tuple(row)) for row in rows)


def _raw_profile_bytes(api: Api, profile_id: int) -> bytes:
    engine = create_engine(api.settings.effective_database_url)
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT secret_ciphertext FROM credential_profiles WHERE id = :id"),
            {"id": profile_id},
        ).scalar_one()
    engine.dispose()
    return bytes(value)
