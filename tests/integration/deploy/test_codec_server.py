"""The codec server the Temporal Web UI calls: Temporal's protocol, login required,
CORS for the configured UI origin only. The app runs whole, on a SQLite store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.codec import COOKIE
from api.security import Principal, issue_login_token, signing_key
from common.codec import ENCODING
from common.settings import Settings
from domain.roles import Role

UI = "https://temporal.example.test"
PLAIN = {
    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
    "data": base64.b64encode(b'"esx01.example.test"').decode(),
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("codec-api")
    settings = Settings(data_dir=data_dir, secret_key="codec-server-key", codec_cors_origin=UI)
    with TestClient(create_app(settings), base_url="https://api.example.test") as client:
        yield client


def _token(api: TestClient, role: Role) -> dict[str, str]:
    settings = api.app.state.orch.settings  # type: ignore[attr-defined]
    principal = Principal(f"{role.value}-user", role, "ldap")
    token = issue_login_token(principal, signing_key(settings), 900, datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def test_encode_then_decode_round_trips_for_an_operator(api: TestClient) -> None:
    operator = _token(api, Role.OPERATOR)
    encoded = api.post("/codec/encode", json={"payloads": [PLAIN]}, headers=operator)
    assert encoded.status_code == 200, encoded.text
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    assert b"esx01" not in base64.b64decode(sealed["data"])
    decoded = api.post("/codec/decode", json={"payloads": [sealed]}, headers=operator)
    assert decoded.json() == {"payloads": [PLAIN]}


def test_viewers_decode_only_and_plaintext_passes_through(api: TestClient) -> None:
    viewer = _token(api, Role.VIEWER)
    decoded = api.post("/codec/decode", json={"payloads": [PLAIN]}, headers=viewer)
    assert decoded.json() == {"payloads": [PLAIN]}
    assert api.post("/codec/encode", json={"payloads": [PLAIN]}, headers=viewer).status_code == 403


def test_anonymous_and_forged_calls_are_refused_with_cors_so_the_ui_can_say_so(
    api: TestClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer forged"}):
        answer = api.post(
            "/codec/decode", json={"payloads": [PLAIN]}, headers={**headers, "Origin": UI}
        )
        assert answer.status_code == 401
        assert answer.headers["access-control-allow-origin"] == UI
        assert "esx01" not in answer.text


def test_cors_is_limited_to_the_configured_web_ui(api: TestClient) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = api.options("/codec/decode", headers={**ask, "Origin": UI})
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "POST" in allowed.headers["access-control-allow-methods"]
    other = api.options("/codec/decode", headers={**ask, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    viewer = _token(api, Role.VIEWER)
    answer = api.post(
        "/codec/decode",
        json={"payloads": [PLAIN]},
        headers={**viewer, "Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in answer.headers


def test_a_codec_session_cookie_lets_the_plain_web_ui_decode(api: TestClient) -> None:
    opened = api.post("/codec/session", headers=_token(api, Role.VIEWER))
    assert opened.status_code == 204
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/codec" in cookie and "Secure" in cookie
    with TestClient(api.app, base_url="https://api.example.test") as browser:
        assert browser.post("/codec/decode", json={"payloads": [PLAIN]}).status_code == 401
        browser.cookies.set(COOKIE, api.cookies[COOKIE], path="/codec")
        decoded = browser.post("/codec/decode", json={"payloads": [PLAIN]}, headers={"Origin": UI})
        assert decoded.json() == {"payloads": [PLAIN]}
        assert decoded.headers["access-control-allow-credentials"] == "true"


def test_malformed_bodies_are_refused(api: TestClient) -> None:
    viewer = _token(api, Role.VIEWER)
    assert api.post("/codec/decode", content=b"{not json", headers=viewer).status_code == 422
    bad_base64 = {"payloads": [{"data": "not base64!"}]}
    assert api.post("/codec/decode", json=bad_base64, headers=viewer).status_code == 400


def test_a_payload_under_an_unknown_key_is_refused_by_name(api: TestClient) -> None:
    foreign = {
        "metadata": {
            "encoding": base64.b64encode(ENCODING).decode(),
            "encryption-key-id": base64.b64encode(b"retired-2019").decode(),
        },
        "data": base64.b64encode(b"\0" * 40).decode(),
    }
    answer = api.post(
        "/codec/decode", json={"payloads": [foreign]}, headers=_token(api, Role.VIEWER)
    )
    assert answer.status_code == 400 and "retired-2019" in answer.json()["detail"]
