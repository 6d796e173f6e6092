"""Windows the engine cannot schedule are refused at the door, by /windows and /campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.test_campaigns import _spec

YEAR_9999 = {
    "kind": "once",
    "timezone": "UTC",
    "starts_at": "9999-12-30T22:00:00+00:00",
    "ends_at": "9999-12-31T04:00:00+00:00",
}
OFFSET_START = {
    "kind": "weekly",
    "timezone": "Asia/Kolkata",
    "weekdays": [5],
    "start": "22:00+05:00",
    "duration_minutes": 60,
}


@pytest.mark.parametrize(
    ("window", "loc", "message"),
    [
        (YEAR_9999, ["body", "window", "once", "starts_at"], "between 1970 and 9989"),
        (OFFSET_START, ["body", "window", "weekly", "start"], "UTC offset"),
    ],
)
def test_windows_route_refuses(
    admin: httpx.Client, window: dict[str, Any], loc: list[Any], message: str
) -> None:
    response = admin.post("/windows", json={"name": uuid.uuid4().hex, "window": window})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"]


async def test_campaign_with_a_year_9999_window_is_422_not_a_stuck_workflow(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = {**await _spec(api, tokens), "windows": [YEAR_9999]}
    async with api.async_client(tokens["operator"]) as operator:
        response = await operator.post("/campaigns", json={"name": "far", "spec": spec})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:5] == ["body", "spec", "windows", 0, "once"]


async def test_too_many_windows_after_copying_stored_ones_is_422(
    api: Api, tokens: dict[str, str]
) -> None:
    weekly = {**OFFSET_START, "start": "22:00"}
    async with api.async_client(tokens["admin"]) as admin:
        created = [
            await admin.post("/windows", json={"name": uuid.uuid4().hex, "window": weekly})
            for _ in range(21)
        ]
    ids = [response.json()["id"] for response in created]
    spec = await _spec(api, tokens)
    async with api.async_client(tokens["operator"]) as operator:
        response = await operator.post(
            "/campaigns", json={"name": "many", "spec": spec, "window_ids": ids}
        )
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "window_ids"] and "at most 20" in error["msg"]
