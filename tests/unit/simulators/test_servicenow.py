"""The ServiceNow simulator answers as the Table API documentation says, spoken to with
plain httpx (not the orchestrator's client)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulators.servicenow import Instance, servicenow

TABLE = "/api/now/table/change_request"


@pytest.fixture
def instance() -> Iterator[Instance]:
    with servicenow(users={"admin": "pw"}, tokens={"tok"}) as running:
        yield running


@pytest.fixture
def api(instance: Instance) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=instance.url, auth=("admin", "pw")) as client:
        yield client


def test_create_query_and_update_in_result_envelopes(api: httpx.Client) -> None:
    created = api.post(TABLE, json={"short_description": "x", "correlation_id": "c-1"})
    assert created.status_code == 201
    record = created.json()["result"]
    assert len(record["sys_id"]) == 32 and record["number"].startswith("CHG")
    assert record["state"] == "-5"
    api.post(TABLE, json={"correlation_id": "c-2"})

    found = api.get(
        TABLE, params={"sysparm_query": "correlation_id=c-1", "sysparm_fields": "sys_id"}
    )
    assert found.json() == {"result": [{"sys_id": record["sys_id"]}]}
    changed = api.patch(f"{TABLE}/{record['sys_id']}", json={"state": "3", "work_notes": "n"})
    assert changed.json()["result"]["state"] == "3"
    assert changed.json()["result"]["work_notes"] == ""  # a journal field


def test_bad_auth_unknown_records_and_injected_faults(
    instance: Instance, api: httpx.Client
) -> None:
    assert httpx.get(f"{instance.url}{TABLE}", auth=("admin", "wrong")).status_code == 401
    bearer = {"Authorization": "Bearer tok"}
    assert httpx.get(f"{instance.url}{TABLE}", headers=bearer).status_code == 200
    missing = api.get(f"{TABLE}/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["status"] == "failure"
    instance.fail_next(2)
    assert [api.get(TABLE).status_code for _ in range(3)] == [503, 503, 200]
