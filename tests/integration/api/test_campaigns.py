"""Campaign endpoints against the real Temporal dev server.

With the contract worker (the documented names, see contract_workflow.py): start is
idempotent, pause/resume are signals, abort is an update with a validator, live status is a
query. Without any worker: start still reaches Temporal, status degrades to the stored
record with a reason, and an abort fails clearly instead of hanging.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from tests.integration.api.conftest import IDLE_NAMESPACE, NAMESPACE, Api
from tests.integration.api.contract_workflow import SIGNAL_FINISH


async def _spec(api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    async with api.async_client(tokens["admin"]) as admin:
        return await _setup(admin)


async def _setup(admin: httpx.AsyncClient) -> dict[str, Any]:
    """A cluster with a host and a package: what a campaign spec refers to."""
    suffix = uuid.uuid4().hex[:8]
    vc = (await admin.post("/vcenters", json={"name": f"vc-{suffix}", "address": "vc"})).json()
    cluster = (
        await admin.post("/clusters", json={"name": f"prod-{suffix}", "vcenter_id": vc["id"]})
    ).json()
    tag = suffix[:7].upper()
    server = await admin.post(
        "/servers",
        json={
            "service_tag": tag,
            "idrac_address": "10.1.1.1",
            "cluster_id": cluster["id"],
            "esxi_host": f"esx-{suffix}.example.test",
        },
    )
    assert server.status_code == 201
    package = (
        await admin.post(
            "/packages",
            json={
                "name": "iDRAC",
                "component_id": "25227",
                "version": f"7.10.{suffix}",
                "sha256": hashlib.sha256(suffix.encode()).hexdigest(),
            },
        )
    ).json()
    return {
        "targets": {"clusters": [cluster["name"]], "service_tags": [tag]},
        "firmware": [
            {"component_id": "25227", "version": package["version"], "package_id": package["id"]}
        ],
        "policy": {"max_concurrent_per_cluster": 1, "min_hosts_online": 0},
    }


async def test_create_rejects_unknown_references_precisely(
    api: Api, tokens: dict[str, str]
) -> None:
    async with api.async_client(tokens["operator"]) as operator:
        spec = await _spec(api, tokens)
        unknown = {**spec, "targets": {"clusters": ["no-such-cluster"]}}
        response = await operator.post("/campaigns", json={"name": "x", "spec": unknown})
        assert response.status_code == 422
        error = response.json()["detail"][0]
        assert error["loc"] == ["body", "spec", "targets", "clusters"]
        assert error["msg"] == "unknown at position 0"  # never the submitted value

        wrong_version = {**spec, "firmware": [{**spec["firmware"][0], "version": "0.0.1"}]}
        response = await operator.post("/campaigns", json={"name": "x", "spec": wrong_version})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == [
            "body",
            "spec",
            "firmware",
            0,
            "package_id",
        ]

        invalid = {**spec, "policy": {"max_concurrent_per_cluster": 0, "on_failure": "explode"}}
        response = await operator.post("/campaigns", json={"name": "x", "spec": invalid})
        assert response.status_code == 422
        locs = {tuple(e["loc"]) for e in response.json()["detail"]}
        assert ("body", "spec", "policy", "max_concurrent_per_cluster") in locs
        assert ("body", "spec", "policy", "on_failure") in locs


async def test_window_ids_are_copied_into_the_spec(api: Api, tokens: dict[str, str]) -> None:
    async with api.async_client(tokens["admin"]) as admin:
        spec = await _setup(admin)
        window = {
            "kind": "weekly",
            "timezone": "Europe/Paris",
            "weekdays": [5],
            "start": "21:00",
            "duration_minutes": 240,
        }
        site = f"dc-paris-{uuid.uuid4().hex[:6]}"
        paris = (
            await admin.post("/datacenters", json={"name": site, "timezone": "Europe/Paris"})
        ).json()
        stored = [
            (
                await admin.post(
                    "/windows",
                    json={"name": f"w-{uuid.uuid4().hex[:6]}", "window": window, **scope},
                )
            ).json()
            for scope in ({}, {"datacenter_id": paris["id"]})
        ]
        response = await admin.post(
            "/campaigns",
            json={"name": "w", "spec": spec, "window_ids": [w["id"] for w in stored]},
        )
        assert response.status_code == 201
        copied = {**window, "start": "21:00:00", "clusters": []}
        # A window stored for a datacenter keeps gating only that datacenter's clusters.
        assert response.json()["spec"]["windows"] == [
            {**copied, "datacenters": []},
            {**copied, "datacenters": [site]},
        ]
        scoped = await admin.post(
            "/windows", json={"name": "s", "window": {**window, "clusters": ["c1"]}}
        )
        assert scoped.status_code == 422
        assert "applies to its datacenter_id" in scoped.text
        missing = await admin.post(
            "/campaigns", json={"name": "w", "spec": spec, "window_ids": [999999]}
        )
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == [
            "body",
            "window_ids",
        ]


async def test_lifecycle_with_the_contract_worker(
    api: Api,
    tokens: dict[str, str],
    contract_worker: Worker,
    temporal_namespaces: dict[str, Client],
) -> None:
    async with api.async_client(tokens["operator"]) as operator:
        spec = await _spec(api, tokens)
        created = await operator.post("/campaigns", json={"name": "BIOS wave 1", "spec": spec})
        assert created.status_code == 201
        campaign = created.json()
        assert (campaign["status"], campaign["created_by"]) == ("created", "alice")
        cid = campaign["id"]

        first = await operator.post(f"/campaigns/{cid}/start")
        again = await operator.post(f"/campaigns/{cid}/start")
        assert first.status_code == again.status_code == 202
        assert first.json()["workflow_id"] == f"campaign-{cid}"
        assert first.json()["run_id"] == again.json()["run_id"]
        assert first.json()["status"] == "running"

        temporal = temporal_namespaces[NAMESPACE]
        handle = temporal.get_workflow_handle(f"campaign-{cid}")
        description = await handle.describe()
        assert description.workflow_type == "CampaignWorkflow"
        assert description.task_queue == "campaigns"
        runs = [w async for w in temporal.list_workflows(f"WorkflowId = 'campaign-{cid}'")]
        assert len(runs) == 1

        detail = (await operator.get(f"/campaigns/{cid}")).json()
        assert detail["live"]["available"] is True
        assert (detail["status"], detail["problems"]) == ("running", [])
        assert detail["live"]["status"]["state"] == "running"

        paused = await operator.post(f"/campaigns/{cid}/pause")
        assert paused.status_code == 202 and paused.json()["status"] == "paused"
        assert (await operator.get(f"/campaigns/{cid}")).json()["status"] == "paused"
        await operator.post(f"/campaigns/{cid}/resume")
        assert (await operator.get(f"/campaigns/{cid}")).json()["live"]["status"]["state"] == (
            "running"
        )

        aborted = await operator.post(f"/campaigns/{cid}/abort", json={"reason": "recall"})
        assert aborted.status_code == 202
        assert (aborted.json()["status"], aborted.json()["abort_reason"]) == ("aborting", "recall")
        assert (await handle.result())["state"] == "aborted"
        for _ in range(3):  # it used to read "aborted" once, then "completed"
            final = (await operator.get(f"/campaigns/{cid}")).json()
            assert (final["status"], final["live"]["temporal_status"]) == ("aborted", "COMPLETED")
            assert final["status_reason"] == "aborted by an operator: recall"

        listed = (await operator.get("/campaigns", params={"status": "aborted"})).json()
        assert cid in [c["id"] for c in listed["items"]]
        refused = await operator.post(f"/campaigns/{cid}/pause")
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            f"campaign {cid} has ended: aborted: aborted by an operator: recall"
        )
        ended = datetime.fromisoformat(final["finished_at"])
        assert await _ends_audited(operator, cid) == [("aborted", ended)]


async def test_abort_validator_rejection_is_a_409(
    api: Api,
    tokens: dict[str, str],
    contract_worker: Worker,
    temporal_namespaces: dict[str, Client],
) -> None:
    async with api.async_client(tokens["operator"]) as operator:
        spec = await _spec(api, tokens)
        cid = (await operator.post("/campaigns", json={"name": "v", "spec": spec})).json()["id"]
        assert (await operator.post(f"/campaigns/{cid}/start")).status_code == 202
        # Paused, the stand-in keeps running after accepting an abort (it winds down on
        # resume), so the second abort deterministically meets the update validator.
        assert (await operator.post(f"/campaigns/{cid}/pause")).status_code == 202
        first = await operator.post(f"/campaigns/{cid}/abort", json={"reason": "one"})
        assert first.status_code == 202
        second = await operator.post(f"/campaigns/{cid}/abort", json={"reason": "two"})
        assert second.status_code == 409
        assert second.json()["detail"] == "abort rejected: already aborting: one"
        stored = (await operator.get(f"/campaigns/{cid}")).json()
        assert (stored["status"], stored["abort_reason"]) == ("aborting", "one")  # kept
        resumed = await operator.post(f"/campaigns/{cid}/resume")
        assert resumed.json()["status"] == "aborting"  # a resume does not hide the abort
        handle = temporal_namespaces[NAMESPACE].get_workflow_handle(f"campaign-{cid}")
        assert (await handle.result())["stop_reason"] == "aborted by an operator: one"
        final = (await operator.get(f"/campaigns/{cid}")).json()
        assert final["status"] == "aborted"
        assert final["live"]["status"]["state"] == "aborted"  # the workflow's final result


async def test_without_a_worker_status_degrades_and_abort_fails_clearly(
    idle_api: Api, tokens: dict[str, str], temporal_namespaces: dict[str, Client]
) -> None:
    async with idle_api.async_client(tokens["operator"]) as operator:
        spec = await _spec(idle_api, tokens)
        cid = (await operator.post("/campaigns", json={"name": "idle", "spec": spec})).json()["id"]
        detail = (await operator.get(f"/campaigns/{cid}")).json()
        assert detail["live"] is None and detail["status"] == "created"
        assert (await operator.post(f"/campaigns/{cid}/pause")).status_code == 409

        started = await operator.post(f"/campaigns/{cid}/start")
        assert started.status_code == 202
        description = (
            await temporal_namespaces[IDLE_NAMESPACE]
            .get_workflow_handle(f"campaign-{cid}")
            .describe()
        )
        assert description.status == WorkflowExecutionStatus.RUNNING

        detail = (await operator.get(f"/campaigns/{cid}")).json()
        assert detail["status"] == "running"
        assert detail["live"]["available"] is False
        assert detail["live"]["temporal_status"] == "RUNNING"
        assert "no worker answered" in detail["live"]["detail"]

        assert (await operator.post(f"/campaigns/{cid}/pause")).status_code == 202  # signals queue
        aborted = await operator.post(f"/campaigns/{cid}/abort", json={"reason": "nobody home"})
        assert aborted.status_code == 503
        assert "no campaign worker accepted the abort" in aborted.json()["detail"]
        await temporal_namespaces[IDLE_NAMESPACE].get_workflow_handle(f"campaign-{cid}").terminate()
        # Reading how it closed needs Temporal's history, not a worker.
        assert (await operator.get(f"/campaigns/{cid}")).json()["status"] == "terminated"


async def _ends_audited(client: httpx.AsyncClient, cid: int) -> list[tuple[str, datetime]]:
    """The audit trail's campaign-end entries for one campaign: (outcome, when)."""
    page = (await client.get("/audit", params={"action": "campaign.end", "limit": 500})).json()
    return [
        (e["outcome"], datetime.fromisoformat(e["occurred_at"]))
        for e in page["items"]
        if e["target"] == f"campaign:{cid}" and e["actor"] == "orchestrator"
    ]


async def _started(operator: httpx.AsyncClient, api: Api, tokens: dict[str, str]) -> int:
    spec = await _spec(api, tokens)
    cid = (await operator.post("/campaigns", json={"name": "ends", "spec": spec})).json()["id"]
    assert (await operator.post(f"/campaigns/{cid}/start")).status_code == 202
    return int(cid)


async def _read_via_list(operator: httpx.AsyncClient, cid: int, status: str) -> dict[str, Any]:
    listed = (await operator.get("/campaigns", params={"status": status, "limit": 500})).json()
    return next(item for item in listed["items"] if item["id"] == cid)


async def _read_via_detail(operator: httpx.AsyncClient, cid: int, _: str) -> dict[str, Any]:
    return dict((await operator.get(f"/campaigns/{cid}")).json())


@pytest.mark.parametrize(
    ("end", "stop_reason", "first_read"),
    [
        ("halted", "3 failed host(s) reached the campaign threshold of 3", _read_via_detail),
        ("finished_with_failures", None, _read_via_list),
    ],
)
async def test_a_campaign_ending_with_failures_reads_so_every_time(
    api: Api,
    tokens: dict[str, str],
    contract_worker: Worker,
    temporal_namespaces: dict[str, Client],
    end: str,
    stop_reason: str | None,
    first_read: Any,
) -> None:
    """Its workflow completes (Temporal: COMPLETED); the campaign did not."""
    async with api.async_client(tokens["operator"]) as operator:
        cid = await _started(operator, api, tokens)
        handle = temporal_namespaces[NAMESPACE].get_workflow_handle(f"campaign-{cid}")
        await handle.signal(SIGNAL_FINISH, args=[end, stop_reason])
        assert (await handle.result())["state"] == end

        first = await first_read(operator, cid, end)
        assert (first["status"], first["status_reason"]) == (end, stop_reason)
        for _ in range(2):
            for read in (_read_via_detail, _read_via_list):
                again = await read(operator, cid, end)
                assert (again["status"], again["finished_at"]) == (end, first["finished_at"])
        detail = await _read_via_detail(operator, cid, end)
        assert detail["live"]["temporal_status"] == "COMPLETED"
        finished_at = datetime.fromisoformat(detail["finished_at"])
        assert await _ends_audited(operator, cid) == [(end, finished_at)]
        by_outcome = await operator.get("/audit", params={"outcome": end, "limit": 500})
        assert f"campaign:{cid}" in [entry["target"] for entry in by_outcome.json()["items"]]

        restarted = await operator.post(f"/campaigns/{cid}/start")
        assert restarted.status_code == 409
        assert restarted.json()["detail"].startswith(f"campaign {cid} has ended: ")


@pytest.mark.parametrize(
    ("abort_first", "status", "reason"),
    [
        (False, "terminated", "wedged rollout"),
        (True, "aborted", "aborted by an operator: recall (workflow terminated: wedged rollout)"),
    ],
)
async def test_a_terminated_campaign_never_reads_completed(
    api: Api,
    tokens: dict[str, str],
    contract_worker: Worker,
    temporal_namespaces: dict[str, Client],
    abort_first: bool,
    status: str,
    reason: str,
) -> None:
    """Ended from outside (e.g. the Web UI), it has no result of its own; after an accepted
    abort (a campaign whose wedged rollout never lets it wind down) it reads aborted."""
    async with api.async_client(tokens["operator"]) as operator:
        cid = await _started(operator, api, tokens)
        if abort_first:  # paused, the stand-in keeps running after accepting the abort
            assert (await operator.post(f"/campaigns/{cid}/pause")).status_code == 202
            accepted = await operator.post(f"/campaigns/{cid}/abort", json={"reason": "recall"})
            assert accepted.status_code == 202
        handle = temporal_namespaces[NAMESPACE].get_workflow_handle(f"campaign-{cid}")
        await handle.terminate(reason="wedged rollout")
        for read in (_read_via_list, _read_via_detail, _read_via_detail, _read_via_list):
            seen = await read(operator, cid, status)
            assert (seen["status"], seen["status_reason"]) == (status, reason)
        detail = await _read_via_detail(operator, cid, status)
        assert detail["live"]["temporal_status"] == "TERMINATED"
        assert detail["live"]["detail"] == (
            "the workflow closed without a result (terminated: wedged rollout)"
        )
        assert [outcome for outcome, _ in await _ends_audited(operator, cid)] == [status]
