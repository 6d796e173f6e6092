"""Approve and reject through the API: who may (the approver right, never the creator),
what a bad request gets (403, 409, 422 naming the field), and that each attempt is audited.
The workflow's own checks are tested on real parts in tests/integration/campaign."""

from __future__ import annotations

from typing import Any

import httpx
from typer.testing import CliRunner

from cli.main import app
from tests.integration.api.conftest import PASSWORDS, Api
from tests.integration.api.test_campaigns import _spec

APPROVAL = {"required_approvals": 2, "expires_after_hours": 24}


def _with_approval(spec: dict[str, Any], approval: dict[str, Any]) -> dict[str, Any]:
    return {**spec, "policy": {**spec.get("policy", {}), "approval": approval}}


async def _campaign(client: httpx.AsyncClient, spec: dict[str, Any]) -> int:
    body = {"name": "needs approval", "spec": _with_approval(spec, APPROVAL)}
    response = await client.post("/campaigns", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_an_approver_group_grants_the_right_and_me_shows_it(api: Api) -> None:
    with api.client(api.login("erin", PASSWORDS["erin"])) as client:
        me = client.get("/auth/me").json()
    assert me == {"name": "erin", "role": "viewer", "via": "ldap", "approver": True}


async def test_a_bad_approval_policy_is_a_422_naming_the_field(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    async with api.async_client(tokens["operator"]) as operator:
        for field, value in (("required_approvals", 0), ("expires_after_hours", -1)):
            body = {"name": "x", "spec": _with_approval(spec, {**APPROVAL, field: value})}
            response = await operator.post("/campaigns", json=body)
            assert response.status_code == 422
            loc = response.json()["detail"][0]["loc"]
            assert loc == ["body", "spec", "policy", "approval", field]


async def test_only_approvers_who_did_not_create_it_may_decide(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    frank = api.login("frank", PASSWORDS["frank"])  # operator and approver
    async with api.async_client(frank) as creator, api.async_client(tokens["admin"]) as admin:
        cid = await _campaign(creator, spec)
        refused = await admin.post(f"/campaigns/{cid}/approve", json={})
        assert (refused.status_code, refused.json()["detail"]) == (
            403,
            "requires the approver right",  # admins are no approvers unless in the group
        )
        own = await creator.post(f"/campaigns/{cid}/approve", json={})
        assert (own.status_code, own.json()["detail"]) == (
            403,
            "the campaign's creator cannot approve it: another approver must",
        )
        audit = (await admin.get("/audit", params={"action": "approve_campaign"})).json()
        attempts = [(e["actor"], e["outcome"]) for e in audit["items"] if str(cid) in e["target"]]
        assert sorted(attempts) == [("carol", "denied"), ("frank", "denied")]


async def test_approving_a_campaign_not_started_is_a_409_and_reject_needs_a_reason(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    erin = api.login("erin", PASSWORDS["erin"])
    async with api.async_client(tokens["operator"]) as operator, api.async_client(erin) as erin_:
        cid = await _campaign(operator, spec)
        early = await erin_.post(f"/campaigns/{cid}/approve", json={})
        assert (early.status_code, early.json()["detail"]) == (
            409,
            "campaign has not been started",
        )
        blank = await erin_.post(f"/campaigns/{cid}/reject", json={"reason": ""})
        assert blank.status_code == 422
        assert blank.json()["detail"][0]["loc"] == ["body", "reason"]


async def test_the_cli_approves_and_rejects_through_the_api(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    async with api.async_client(tokens["operator"]) as operator:
        cid = await _campaign(operator, spec)
    erin = api.login("erin", PASSWORDS["erin"])
    env = {"IDRAC_ORCH_API_URL": api.url, "IDRAC_ORCH_API_TOKEN": erin}
    approved = CliRunner().invoke(app, ["campaign", "approve", str(cid)], env=env)
    assert approved.exit_code != 0
    assert "campaign has not been started" in approved.output
    rejected = CliRunner().invoke(app, ["campaign", "reject", str(cid), "--reason", ""], env=env)
    assert rejected.exit_code != 0
    assert "reason" in rejected.output


async def test_an_admin_mints_an_approver_token_and_a_plain_token_is_refused_clearly(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    grace = api.login("grace", PASSWORDS["grace"])  # admin and approver
    async with api.async_client(tokens["admin"]) as carol:  # admin, no approver right
        body = {"name": "carols-bot", "role": "viewer", "approver": True}
        refused = await carol.post("/auth/tokens", json=body)
        assert (refused.status_code, refused.json()["detail"]) == (
            403,
            "only an admin who holds the approver right may mint a token with it "
            "(the token's decisions count as its minter's)",
        )
    async with api.async_client(grace) as admin:
        minted = {}
        for name, approver in (("change-bot", True), ("ci-bot", False)):
            body = {"name": name, "role": "viewer", "approver": approver}
            created = await admin.post("/auth/tokens", json=body)
            assert created.status_code == 201, created.text
            assert created.json()["approver"] is approver
            minted[name] = created.json()["token"]
        listed = (await admin.get("/auth/tokens")).json()["items"]
        rights = {t["name"]: t["approver"] for t in listed}
        assert (rights["change-bot"], rights["ci-bot"]) == (True, False)
        assert "carols-bot" not in rights
        audit = (await admin.get("/audit", params={"action": "api_token_minted"})).json()
        details = {e["target"].split("(")[-1].rstrip(")"): e for e in audit["items"]}
        assert details["change-bot"]["detail"] == "role viewer, with the approver right"
        assert details["ci-bot"]["detail"] == "role viewer, without the approver right"
        assert {details[n]["actor"] for n in ("change-bot", "ci-bot")} == {"grace"}
        assert not any(minted["change-bot"] in str(e) for e in audit["items"])
        own = await admin.post(
            "/campaigns", json={"name": "graces", "spec": _with_approval(spec, APPROVAL)}
        )
        assert own.status_code == 201, own.text
    async with api.async_client(tokens["operator"]) as operator:
        cid = await _campaign(operator, spec)
    async with api.async_client(minted["change-bot"]) as bot:
        me = (await bot.get("/auth/me")).json()
        assert me == {
            "name": "token:change-bot",
            "role": "viewer",
            "via": "api-token",
            "approver": True,
        }
        passed = await bot.post(f"/campaigns/{cid}/approve", json={})
        # Past the right check: only the campaign's own state refuses it now.
        assert (passed.status_code, passed.json()["detail"]) == (
            409,
            "campaign has not been started",
        )
        minters = await bot.post(f"/campaigns/{own.json()['id']}/approve", json={})
        assert (minters.status_code, minters.json()["detail"]) == (
            403,
            "the campaign's creator cannot approve it (this API token was minted by it): "
            "another approver must",
        )
    async with api.async_client(minted["ci-bot"]) as plain:
        refused = await plain.post(f"/campaigns/{cid}/approve", json={})
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "requires the approver right: this API token was minted without it (an admin "
            'who holds the right may mint one with "approver": true)'
        )


async def test_a_cluster_is_approved_or_rejected_by_name_and_each_attempt_is_audited(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    async with api.async_client(tokens["operator"]) as operator:
        body = {
            "name": "per cluster",
            "spec": _with_approval(spec, {**APPROVAL, "per_cluster": True}),
        }
        created = await operator.post("/campaigns", json=body)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        assert created.json()["spec"]["policy"]["approval"]["per_cluster"] is True
        refused = await operator.post(f"/campaigns/{cid}/clusters/alpha/approve", json={})
        assert (refused.status_code, refused.json()["detail"]) == (
            403,
            "requires the approver right",
        )
    erin = api.login("erin", PASSWORDS["erin"])
    async with api.async_client(erin) as approver:
        early = await approver.post(f"/campaigns/{cid}/clusters/alpha/approve", json={})
        assert (early.status_code, early.json()["detail"]) == (409, "campaign has not been started")
        blank = await approver.post(f"/campaigns/{cid}/clusters/alpha/reject", json={"reason": ""})
        assert blank.status_code == 422
        assert blank.json()["detail"][0]["loc"] == ["body", "reason"]
    env = {"IDRAC_ORCH_API_URL": api.url, "IDRAC_ORCH_API_TOKEN": erin}
    cli = CliRunner().invoke(
        app, ["campaign", "reject", str(cid), "--cluster", "bravo", "--reason", "frozen"], env=env
    )
    assert cli.exit_code != 0
    assert "campaign has not been started" in cli.output
    async with api.async_client(tokens["admin"]) as admin:
        audit = {}
        for action in ("approve_cluster", "reject_cluster"):
            found = (await admin.get("/audit", params={"action": action})).json()["items"]
            audit[action] = sorted(
                (e["actor"], e["outcome"], e["target"]) for e in found if f"/{cid}/" in e["target"]
            )
    assert audit["approve_cluster"] == [
        ("alice", "denied", f"POST /campaigns/{cid}/clusters/alpha/approve"),
        ("erin", "rejected", f"POST /campaigns/{cid}/clusters/alpha/approve"),
    ]
    assert audit["reject_cluster"] == [
        ("erin", "rejected", f"POST /campaigns/{cid}/clusters/alpha/reject"),
        ("erin", "rejected", f"POST /campaigns/{cid}/clusters/bravo/reject"),
    ]
