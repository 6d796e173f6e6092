"""The audit's small findings: lone surrogates, echoed values, numbers as date-times, Allow."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.api.conftest import Api

LONE = '"x\\ud800y"'  # JSON text: a lone UTF-16 surrogate, which no encoder accepts


def _raw(client: httpx.Client, path: str, template: str) -> httpx.Response:
    """POST the JSON ``template`` with LONE and NAME filled in (JSON escapes cannot be
    written with json.dumps, which refuses the lone surrogate)."""
    body = template.replace("LONE", LONE).replace("NAME", uuid.uuid4().hex[:8])
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "template", "message"),
    [
        (
            "/credential-profiles",  # the secret box could not encode it: a 500
            '{"name": "NAME", "scope": "global", "username": "u", "password": LONE}',
            "lone surrogate",
        ),
        ("/datacenters", '{"name": LONE, "timezone": "UTC"}', "unicode"),  # pydantic's own
    ],
)
def test_a_lone_surrogate_is_422_not_500(
    admin: httpx.Client, path: str, template: str, message: str
) -> None:
    response = _raw(admin, path, template)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ('{"username": "alice", "password": LONE}', "password"),
        ('{"username": LONE, "password": "x"}', "username"),
    ],
)
def test_a_lone_surrogate_in_a_login_is_422_naming_the_field(
    api: Api, template: str, field: str
) -> None:
    with api.client(source="127.0.6.1") as client:
        response = _raw(client, "/auth/login", template)
    assert response.status_code == 422, response.text  # was a 503 "directory unavailable"
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_numbers_are_not_date_times(admin: httpx.Client) -> None:
    for since in ("1700000000", "1700000000.5", "-1"):
        response = admin.get("/audit", params={"since": since})
        assert response.status_code == 422, (since, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", "since"]
    assert admin.get("/audit", params={"since": "2026-01-01T00:00:00Z"}).status_code == 200


def test_errors_do_not_echo_submitted_text(admin: httpx.Client) -> None:
    canary = "Canary-Pass-9931"
    for path, body in (
        ("/datacenters", {"name": uuid.uuid4().hex, "timezone": canary}),
        (
            "/credential-profiles",
            {
                "name": uuid.uuid4().hex,
                "scope": "cidr",
                "cidr": canary,
                "username": "u",
                "password": "p",
            },
        ),
        (
            "/windows",
            {
                "name": uuid.uuid4().hex,
                "window": {
                    "kind": "weekly",
                    "timezone": "UTC",
                    "weekdays": [canary],
                    "start": "22:00",
                    "duration_minutes": 60,
                },
            },
        ),
    ):
        response = admin.post(path, json=body)
        assert response.status_code == 422, response.text
        assert canary not in response.text, response.text


def test_method_not_allowed_lists_every_method_of_the_path(admin: httpx.Client) -> None:
    response = admin.options("/datacenters")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
    item = admin.request("PUT", "/datacenters/1")
    assert set(item.headers["allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}


def test_the_openapi_window_start_matches_what_is_accepted(admin: httpx.Client) -> None:
    schemas = admin.get("/openapi.json").json()["components"]["schemas"]
    start = schemas["WeeklyWindow"]["properties"]["start"]
    assert "format" not in start and start["pattern"].startswith("^")
