"""Notification channels, rules and the delivery log through the real API: secrets go in
and never come out, bad input is a 422 naming the field, and a delivery that never reached
its receiver is there to see (published by the real activities on a Temporal worker)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from click.testing import Result
from sqlmodel import Session
from temporalio.client import Client
from typer.testing import CliRunner

from activities.resources import Resources
from cli.main import app as cli
from domain.notifications import EventKind
from domain.temporal_names import TaskQueue
from store.crypto import SecretBox
from store.db import make_engine
from store.notifications import NotificationChannel
from tests.integration.api.baseline_lab import Lab, inventory
from tests.integration.api.conftest import NAMESPACE, SECRET_KEY, Api, LogTee
from tests.integration.notify.publishing import Publisher, event, publisher
from tests.services.ports import free_port
from tests.services.receivers import http_receiver

HMAC_KEY = "hmac-Api-Test-Key-31415926"
APPRISE_URL = "json://127.0.0.1:9/chat-Token-27182818"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _webhook(url: str = "http://127.0.0.1:9/hook", secret: str = HMAC_KEY) -> dict[str, Any]:
    return {"kind": "webhook", "name": _name("hook"), "config": {"url": url}, "secret": secret}


def _loc(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


def test_secrets_go_in_and_never_come_out(
    admin: httpx.Client, api: Api, captured_logs: LogTee
) -> None:
    hook = admin.post("/notifications/channels", json=_webhook())
    chat = admin.post(
        "/notifications/channels",
        json={"kind": "apprise", "name": _name("chat"), "secret": APPRISE_URL},
    )
    assert hook.status_code == chat.status_code == 201, (hook.text, chat.text)
    assert hook.json()["has_secret"] and hook.json()["key_id"]
    assert "secret" not in hook.json()
    seen = [
        hook.text,
        chat.text,
        admin.get(f"/notifications/channels/{hook.json()['id']}").text,
        admin.get("/notifications/channels", params={"limit": 500}).text,
        admin.get("/audit", params={"limit": 500}).text,
        admin.patch(
            f"/notifications/channels/{chat.json()['id']}", json={"secret": APPRISE_URL}
        ).text,
    ]
    for text in [*seen, captured_logs.text()]:
        assert HMAC_KEY not in text and "chat-Token-27182818" not in text
    engine = make_engine(api.settings.effective_database_url)
    try:
        with Session(engine) as session:
            row = session.get(NotificationChannel, chat.json()["id"])
            assert row is not None and row.secret_ciphertext is not None
            assert b"chat-Token" not in row.secret_ciphertext
    finally:
        engine.dispose()


def _servicenow(url: str = "https://example.service-now.com") -> dict[str, Any]:
    config = {"instance_url": url, "username": "idrac-orch"}
    return {"kind": "servicenow", "name": _name("sn"), "config": config, "secret": "sn-pw-1618"}


def test_a_servicenow_channel_shows_its_instance_and_user_never_its_password(
    admin: httpx.Client,
) -> None:
    created = admin.post("/notifications/channels", json=_servicenow())
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["kind"] == "servicenow" and channel["has_secret"]
    assert channel["config"] == {
        "instance_url": "https://example.service-now.com/",
        "username": "idrac-orch",
    }
    assert "sn-pw-1618" not in created.text
    assert "sn-pw-1618" not in admin.get(f"/notifications/channels/{channel['id']}").text


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            _servicenow(url="https://admin:pw@example.service-now.com"),
            ["body", "servicenow", "config", "instance_url"],
        ),
        (
            {k: v for k, v in _servicenow().items() if k != "secret"},
            ["body", "servicenow", "secret"],
        ),
        # The password or bearer token goes with every request: never in clear text.
        (
            _servicenow(url="http://example.service-now.com"),
            ["body", "servicenow", "config", "instance_url"],
        ),
        (
            _servicenow(url="http://10.0.0.5:8080"),
            ["body", "servicenow", "config", "instance_url"],
        ),
        (
            _servicenow(url="http://localhost.example.com"),
            ["body", "servicenow", "config", "instance_url"],
        ),
        ({**_webhook(), "secret": None}, ["body", "webhook", "secret"]),
        ({k: v for k, v in _webhook().items() if k != "secret"}, ["body", "webhook", "secret"]),
        (_webhook(url="ftp://127.0.0.1/x"), ["body", "webhook", "config", "url"]),
        (_webhook(url="http://user:pw@127.0.0.1/x"), ["body", "webhook", "config", "url"]),
        (_webhook(secret="too-short"), ["body", "secret"]),
        (
            {
                "kind": "email",
                "name": "mail",
                "config": {"host": "127.0.0.1", "sender": "a@b.test", "recipients": ["nobody"]},
            },
            ["body", "email", "config", "recipients", 0],
        ),
        (
            {"kind": "email", "name": "mail", "config": {"host": "h", "sender": "a@b.test"}},
            ["body", "email", "config", "recipients"],
        ),
        ({"kind": "apprise", "name": "chat", "secret": "nonsense://x"}, ["body", "secret"]),
        ({"kind": "pager", "name": "x", "config": {}}, ["body"]),
    ],
)
def test_a_bad_channel_is_a_422_naming_the_field(
    admin: httpx.Client, body: dict[str, Any], loc: list[Any]
) -> None:
    locs = _loc(admin.post("/notifications/channels", json=body))
    assert loc in locs, locs


def test_a_bad_change_is_a_422_naming_the_field(admin: httpx.Client) -> None:
    channel = admin.post("/notifications/channels", json=_webhook()).json()
    path = f"/notifications/channels/{channel['id']}"
    assert _loc(admin.patch(path, json={"config": {"url": "not a url"}})) == [
        ["body", "config", "url"]
    ]
    assert _loc(admin.patch(path, json={"secret": "short"})) == [["body", "secret"]]
    assert _loc(admin.patch(path, json={"enabled": None})) == [["body", "enabled"]]
    changed = admin.patch(path, json={"config": {"url": "https://127.0.0.1:8443/x"}})
    assert changed.status_code == 200 and changed.json()["config"] == {
        "url": "https://127.0.0.1:8443/x"
    }


def test_a_servicenow_instance_is_https_but_on_loopback(admin: httpx.Client) -> None:
    """Basic auth or a bearer token on every request: http only where it never leaves the
    machine (the local ServiceNow simulator the notify tests use listens on 127.0.0.1)."""
    refused = admin.post("/notifications/channels", json=_servicenow(url="http://sn.example"))
    assert _loc(refused) == [["body", "servicenow", "config", "instance_url"]]
    assert "https" in refused.json()["detail"][0]["msg"]
    for url in ("http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"):
        created = admin.post("/notifications/channels", json=_servicenow(url=url))
        assert created.status_code == 201, (url, created.text)
    path = f"/notifications/channels/{created.json()['id']}"
    moved = admin.patch(path, json={"config": {"instance_url": "http://sn.example"}})
    assert _loc(moved) == [["body", "config", "instance_url"]]
    moved = admin.patch(path, json={"config": {"instance_url": "https://sn.example"}})
    assert moved.status_code == 200, moved.text


def test_rules_name_bad_fields_and_keep_their_channel(admin: httpx.Client) -> None:
    channel_id = admin.post("/notifications/channels", json=_webhook()).json()["id"]
    assert _loc(
        admin.post("/notifications/rules", json={"channel_id": channel_id, "kinds": ["x.y"]})
    ) == [["body", "kinds", 0]]
    assert _loc(
        admin.post(
            "/notifications/rules",
            json={"channel_id": channel_id, "kinds": ["host.held", "host.held"]},
        )
    ) == [["body", "kinds"]]
    assert _loc(admin.post("/notifications/rules", json={"channel_id": 2_000_000})) == [
        ["body", "channel_id"]
    ]
    assert _loc(
        admin.post("/notifications/rules", json={"channel_id": channel_id, "campaign_id": 999999})
    ) == [["body", "campaign_id"]]
    rule = admin.post(
        "/notifications/rules", json={"channel_id": channel_id, "kinds": ["host.held"]}
    )
    assert rule.status_code == 201 and rule.json()["campaign_id"] is None
    # A channel a rule sends to cannot vanish under it: disable it instead.
    assert admin.delete(f"/notifications/channels/{channel_id}").status_code == 409
    assert admin.delete(f"/notifications/rules/{rule.json()['id']}").status_code == 204
    assert admin.delete(f"/notifications/channels/{channel_id}").status_code == 204


@pytest_asyncio.fixture
async def publish(api: Api, temporal_namespaces: dict[str, Client]) -> AsyncIterator[Publisher]:
    """The real notification activities over the API's own database."""
    settings = api.settings.model_copy(
        update={"notify_max_attempts": 2, "notify_backoff_s": 0.05, "notify_timeout_s": 2.0}
    )
    engine = make_engine(settings.effective_database_url)
    resources = Resources(settings=settings, engine=engine, secrets=SecretBox(SECRET_KEY))
    try:
        # On the notifications queue: resends the API starts run here too.
        client = temporal_namespaces[NAMESPACE]
        async with publisher(client, resources, TaskQueue.NOTIFY) as running:
            yield running
    finally:
        engine.dispose()


async def _only(admin: httpx.AsyncClient, channel_id: int, kinds: list[str]) -> None:
    """Disable every other rule: the events of this test reach only this channel."""
    rules = (await admin.get("/notifications/rules", params={"limit": 500})).json()["items"]
    for rule in rules:
        await admin.patch(f"/notifications/rules/{rule['id']}", json={"enabled": False})
    response = await admin.post(
        "/notifications/rules", json={"channel_id": channel_id, "kinds": kinds}
    )
    assert response.status_code == 201, response.text


async def test_a_delivery_that_never_arrived_is_listed_as_failed(
    api: Api, tokens: dict[str, str], publish: Publisher, captured_logs: LogTee
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    async with api.async_client(tokens["admin"]) as admin:
        created = await admin.post("/notifications/channels", json=_webhook(url=closed))
        channel = created.json()
        await _only(admin, channel["id"], ["campaign.failed"])
        failed = event(EventKind.CAMPAIGN_FAILED)

        assert (await publish.publish(failed)).failed == 1

        listed = await admin.get("/notifications/deliveries", params={"status": "failed"})
        [mine] = [d for d in listed.json()["items"] if d["event_key"] == failed.key]
        assert mine["channel_name"] == channel["name"]
        assert mine["attempts"] == 2 and mine["sent_at"] is None
        assert mine["last_error"].startswith("could not reach the receiver")
        assert mine["kind"] == "campaign.failed" and mine["subject"] == failed.subject
        one = await admin.get(f"/notifications/deliveries/{mine['id']}")
        assert one.status_code == 200 and one.json() == mine
        assert (await admin.get("/notifications/deliveries/2000000")).status_code == 404
        bad = await admin.get("/notifications/deliveries", params={"status": "lost"})
        assert _loc(bad) == [["query", "status"]]

        # The receiver is fixed; an operator sends it again.
        with http_receiver() as receiver:
            fixed = {"config": {"url": f"{receiver.url}/hook"}}
            assert (
                await admin.patch(f"/notifications/channels/{channel['id']}", json=fixed)
            ).status_code == 200
            async with api.async_client(tokens["operator"]) as operator:
                again = await operator.post(f"/notifications/deliveries/{mine['id']}/retry")
                assert again.status_code == 202, again.text
                assert again.json()["status"] in ("pending", "sent")
                sent = await _eventually_sent(operator, mine["id"])
                [request] = receiver.requests
                assert request.headers["Idempotency-Key"] == failed.key
                assert sent["attempts"] == 1 and sent["last_error"] is None
                twice = await operator.post(f"/notifications/deliveries/{mine['id']}/retry")
                assert twice.status_code == 409 and "is sent, not failed" in twice.text
                missing = await operator.post("/notifications/deliveries/2000000/retry")
                assert missing.status_code == 404
    assert "notification not delivered" in captured_logs.text()  # said, and nothing secret
    assert HMAC_KEY not in captured_logs.text()


async def _eventually_sent(client: httpx.AsyncClient, delivery_id: int) -> dict[str, Any]:
    for _ in range(200):
        delivery = (await client.get(f"/notifications/deliveries/{delivery_id}")).json()
        if delivery["status"] == "sent":
            return delivery
        await asyncio.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} never sent: {delivery}")


def _cli(api: Api, token: str, *args: str, secret: str | None = None) -> Result:
    env = {"IDRAC_ORCH_API_URL": api.url, "IDRAC_ORCH_API_TOKEN": token}
    return CliRunner().invoke(cli, ["notify", *args], env=env, input=secret)


async def test_the_cli_sets_up_a_channel_and_shows_its_deliveries(
    api: Api, tokens: dict[str, str], publish: Publisher
) -> None:
    with http_receiver() as receiver:
        name = _name("cli-hook")
        added = _cli(
            api, tokens["admin"], "add-webhook", name, receiver.url, secret=f"{HMAC_KEY}\n"
        )
        assert added.exit_code == 0, added.output
        assert HMAC_KEY not in added.output
        assert f"{name} (webhook, enabled, secret set)" in added.output
        channel_id = int(added.output.strip().splitlines()[-1].split(":", 1)[0])
        async with api.async_client(tokens["admin"]) as admin:
            await _only(admin, channel_id, [])
        ruled = _cli(api, tokens["admin"], "add-rule", str(channel_id), "--event", "host.held")
        assert ruled.exit_code == 0, ruled.output
        assert f"host.held of every campaign -> channel {channel_id}" in ruled.output
        refused = _cli(api, tokens["viewer"], "add-rule", str(channel_id))
        assert refused.exit_code == 1 and "requires role admin" in refused.output

        held = event(EventKind.HOST_HELD)
        assert (await publish.publish(held)).sent == 1
        assert len(receiver.requests) == 1

    log = _cli(api, tokens["viewer"], "deliveries", "--status", "sent")
    assert log.exit_code == 0, log.output
    assert f"host.held {held.subject} -> {name}: sent after 1 attempt(s)" in log.output
    listed = _cli(api, tokens["viewer"], "channels")
    assert name in listed.output and HMAC_KEY not in listed.output
    not_failed = _cli(api, tokens["operator"], "retry", log.output.split(":", 1)[0])
    assert not_failed.exit_code == 1 and "is sent, not failed" in not_failed.output
    disabled = _cli(api, tokens["admin"], "disable", str(channel_id))
    assert disabled.exit_code == 0 and "(webhook, disabled, secret set)" in disabled.output


async def test_a_host_that_goes_off_its_baseline_is_announced_once(
    api: Api, tokens: dict[str, str], publish: Publisher
) -> None:
    """drift.found: the compliance evaluation that finds a host newly off its baseline
    publishes it; evaluations that find it still off do not repeat it."""
    with http_receiver() as receiver, api.client(tokens["admin"]) as sync_admin:
        async with api.async_client(tokens["admin"]) as admin:
            hook = await admin.post("/notifications/channels", json=_webhook(f"{receiver.url}/h"))
            await _only(admin, hook.json()["id"], ["drift.found"])
            lab = await asyncio.to_thread(Lab, sync_admin)
            for name in ("steady", "drifter"):
                await asyncio.to_thread(lab.host, name, 0, inventory("2.13.0"))
            baseline = (await asyncio.to_thread(lab.baseline))["id"]
            async with api.async_client(tokens["operator"]) as operator:
                evaluate = f"/baselines/{baseline}/compliance"
                assert (await operator.post(evaluate)).status_code == 201  # all compliant
                drifter = lab.hosts["drifter"]
                older = {"firmware_inventory": inventory("2.10.0")}
                changed = await admin.patch(f"/servers/{drifter['id']}", json=older)
                assert changed.status_code == 200, changed.text
                second = await operator.post(evaluate)
                assert second.status_code == 201
                [announced] = await asyncio.to_thread(receiver.wait_for, 1)
                assert (await operator.post(evaluate)).status_code == 201  # still off: no news
                await asyncio.sleep(1.0)

    event = json.loads(announced.body)
    assert event["kind"] == "drift.found"
    assert event["subject"].endswith(": 1 host(s) went off the baseline")
    assert drifter["esxi_host"] in event["detail"] and "(upgrade)" in event["detail"]
    assert "steady" not in event["detail"]
    assert announced.headers["Idempotency-Key"] == event["key"]
    assert len(receiver.requests) == 1
