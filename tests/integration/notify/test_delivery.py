"""Delivering notifications on real parts: the activities on a Temporal worker, PostgreSQL,
a loopback HTTP receiver, aiosmtpd with STARTTLS, Apprise. What a receiver sees is checked
the way a receiver would check it (the HMAC recomputed from the documented recipe)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

from sqlmodel import Session, col, select

from activities.notify import DELIVERY_FAILED
from activities.resources import Resources
from domain.notifications import ChannelKind, DeliveryStatus, EventKind
from store.models import AuditEvent
from store.notifications import NotificationChannel, NotificationDelivery, NotificationEventRow
from tests.integration.notify.conftest import BACKOFF_S, MAX_ATTEMPTS, Store
from tests.integration.notify.publishing import Publisher, event
from tests.services.receivers import HttpReceiver, http_receiver, smtp_server

HMAC_KEY = "whsec-notify-test-0123456789"


def deliveries(resources: Resources, key: str) -> list[NotificationDelivery]:
    with Session(resources.engine) as session:
        return list(
            session.exec(
                select(NotificationDelivery)
                .join(NotificationEventRow)
                .where(NotificationEventRow.key == key)
                .order_by(col(NotificationDelivery.id))
            ).all()
        )


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What the README tells a receiver to do."""
    timestamp = headers["X-Idrac-Orch-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Idrac-Orch-Signature"], f"sha256={expected.hexdigest()}")


def webhook(store: Store, receiver: HttpReceiver, name: str) -> int:
    return store.channel(name, ChannelKind.WEBHOOK, {"url": f"{receiver.url}/hook"}, HMAC_KEY)


async def test_a_webhook_gets_the_event_signed_once_however_often_it_is_published(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    store.rule(webhook(store, receiver, "ops-hook"))
    held = event(EventKind.HOST_HELD, campaign_id=7)

    first = await publish.publish(held)
    again = await publish.publish(held)  # a retried activity, a replayed workflow

    assert (first.sent, first.failed, again.sent, again.failed) == (1, 0, 0, 0)
    [request] = receiver.requests
    assert request.path == "/hook"
    assert verify(HMAC_KEY, request.headers, request.body)
    assert not verify("some-other-key-000000", request.headers, request.body)
    assert abs(int(request.headers["X-Idrac-Orch-Timestamp"]) - time.time()) < 60
    assert request.headers["Idempotency-Key"] == held.key
    assert request.headers["X-Idrac-Orch-Event"] == "host.held"
    sent = json.loads(request.body)
    assert sent["kind"] == "host.held" and sent["campaign_id"] == 7 and sent["key"] == held.key
    assert sent["detail"] == "held at verify: BIOS did not change"
    [row] = deliveries(resources, held.key)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


async def test_a_receiver_that_fails_for_a_while_gets_it_after_backoff(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    store.rule(webhook(store, receiver, "flaky-hook"))
    receiver.script = [503, 500]
    started = event(EventKind.CAMPAIGN_STARTED, campaign_id=8)

    result = await publish.publish(started)

    assert result.sent == 1
    tries = receiver.requests
    assert len(tries) == 3
    assert {r.headers["Idempotency-Key"] for r in tries} == {started.key}
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= BACKOFF_S * 0.9 and gaps[1] >= 2 * BACKOFF_S * 0.9  # doubling
    [row] = deliveries(resources, started.key)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_a_receiver_that_never_accepts_leaves_a_failed_delivery_and_an_audit_entry(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    store.rule(webhook(store, receiver, "dead-hook"))
    receiver.script = [500] * 10
    failed = event(EventKind.CAMPAIGN_FAILED, campaign_id=9)

    result = await publish.publish(failed)

    assert (result.sent, result.failed) == (0, 1)
    assert len(receiver.requests) == MAX_ATTEMPTS
    [row] = deliveries(resources, failed.key)
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == MAX_ATTEMPTS
    assert row.last_error == "the receiver answered HTTP 500"
    with Session(resources.engine) as session:
        audited = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == DELIVERY_FAILED,
                AuditEvent.target == f"notification:{failed.key}/channel:dead-hook",
            )
        ).one()
    assert audited.outcome == "failed"
    assert "not delivered after 3 attempt(s)" in (audited.detail or "")
    # Published again (a retried activity): a failed delivery is not retried silently.
    await publish.publish(failed)
    assert len(receiver.requests) == MAX_ATTEMPTS


async def test_a_refusal_is_not_retried(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    store.rule(webhook(store, receiver, "strict-hook"))
    receiver.script = [401]
    paused = event(EventKind.CAMPAIGN_PAUSED, campaign_id=10)

    assert (await publish.publish(paused)).failed == 1

    assert len(receiver.requests) == 1
    [row] = deliveries(resources, paused.key)
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        1,
        "the receiver answered HTTP 401",
    )


async def test_a_send_whose_mark_was_lost_goes_again_with_the_same_idempotency_key(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    """A worker dying after the receiver accepted and before the delivery was marked sent:
    the retry sends again, with the key the receiver deduplicates on."""
    store.rule(webhook(store, receiver, "dedupe-hook"))
    resumed = event(EventKind.CAMPAIGN_RESUMED, campaign_id=11)
    await publish.publish(resumed)
    with Session(resources.engine) as session:
        [row] = session.exec(
            select(NotificationDelivery)
            .join(NotificationEventRow)
            .where(NotificationEventRow.key == resumed.key)
        ).all()
        row.status, row.sent_at = DeliveryStatus.PENDING.value, None
        session.add(row)
        session.commit()

    await publish.publish(resumed)

    first, second = receiver.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == resumed.key
    assert json.loads(first.body) == json.loads(second.body)


async def test_rules_choose_channels_by_kind_and_campaign(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    everything = webhook(store, receiver, "all-hook")
    held_only = store.channel(
        "held-hook", ChannelKind.WEBHOOK, {"url": f"{receiver.url}/held"}, HMAC_KEY
    )
    one_campaign = store.channel(
        "campaign-hook", ChannelKind.WEBHOOK, {"url": f"{receiver.url}/campaign"}, HMAC_KEY
    )
    store.rule(everything)
    store.rule(held_only, kinds=[EventKind.HOST_HELD])
    mine, other = store.campaign(), store.campaign()
    store.rule(one_campaign, campaign_id=mine)
    store.rule(one_campaign, kinds=[EventKind.DRIFT_FOUND], enabled=False)

    await publish.publish(event(EventKind.HOST_HELD, campaign_id=mine))
    await publish.publish(event(EventKind.CAMPAIGN_COMPLETED, campaign_id=other))
    await publish.publish(event(EventKind.DRIFT_FOUND))

    got = [(r.path, json.loads(r.body)["kind"]) for r in receiver.requests]
    assert sorted(got) == sorted(
        [
            ("/hook", "host.held"),
            ("/held", "host.held"),
            ("/campaign", "host.held"),
            ("/hook", "campaign.completed"),
            ("/hook", "drift.found"),
        ]
    )


async def test_email_goes_over_starttls_with_login(
    publish: Publisher, resources: Resources, store: Store, certificate: tuple[str, str]
) -> None:
    with smtp_server(*certificate, login=("orch", "smtp-Pass-4242")) as smtp:
        config = {
            "host": smtp.host,
            "port": smtp.port,
            "sender": "idrac-orch@example.test",
            "recipients": ["ops@example.test", "oncall@example.test"],
            "username": "orch",
        }
        store.rule(store.channel("ops-mail", ChannelKind.EMAIL, config, "smtp-Pass-4242"))
        held = event(EventKind.HOST_HELD, campaign_id=14)

        assert (await publish.publish(held)).sent == 1

        [mail] = smtp.messages
    assert smtp.starttls_used == [True]
    assert mail["Subject"] == "[idrac-orch] host.held: host ABC1234 (campaign 7)"
    assert mail["To"] == "ops@example.test, oncall@example.test"
    assert (
        mail["Message-ID"] == f"<{hashlib.sha256(held.key.encode()).hexdigest()[:32]}@idrac-orch>"
    )
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "held at verify: BIOS did not change" in text and held.key in text


async def test_email_with_a_wrong_password_fails_without_retrying(
    publish: Publisher, resources: Resources, store: Store, certificate: tuple[str, str]
) -> None:
    with smtp_server(*certificate, login=("orch", "the-right-one")) as smtp:
        config = {
            "host": smtp.host,
            "port": smtp.port,
            "sender": "idrac-orch@example.test",
            "recipients": ["ops@example.test"],
            "username": "orch",
        }
        store.rule(store.channel("bad-login-mail", ChannelKind.EMAIL, config, "wrong-one"))
        held = event(EventKind.HOST_HELD)
        assert (await publish.publish(held)).failed == 1
        assert smtp.messages == []
    [row] = deliveries(resources, held.key)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "SMTP login refused (535)")


async def test_email_is_never_sent_in_clear(
    publish: Publisher, resources: Resources, store: Store
) -> None:
    with smtp_server(None, None) as plain:
        config = {
            "host": plain.host,
            "port": plain.port,
            "sender": "idrac-orch@example.test",
            "recipients": ["ops@example.test"],
        }
        store.rule(store.channel("plain-mail", ChannelKind.EMAIL, config, None))
        held = event(EventKind.HOST_HELD)
        assert (await publish.publish(held)).failed == 1
        assert plain.messages == []
    [row] = deliveries(resources, held.key)
    assert row.last_error == "the SMTP server does not offer STARTTLS; refusing to send in clear"


async def test_chat_through_apprise_reaches_a_loopback_json_receiver(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    apprise_url = f"json://127.0.0.1:{port}/chat"
    store.rule(store.channel("team-chat", ChannelKind.APPRISE, {}, apprise_url))
    missed = event(EventKind.WINDOW_MISSED, campaign_id=15)

    assert (await publish.publish(missed)).sent == 1

    [request] = receiver.requests
    posted = json.loads(request.body)
    assert request.path == "/chat"
    assert posted["title"] == "[idrac-orch] window.missed: host ABC1234 (campaign 7)"
    assert "held at verify: BIOS did not change" in posted["message"]


async def test_apprise_failures_are_retried_then_reported_without_the_url(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    apprise_url = f"json://127.0.0.1:{port}/chat-token-abcdef"
    store.rule(store.channel("broken-chat", ChannelKind.APPRISE, {}, apprise_url))
    receiver.script = [500] * 10
    missed = event(EventKind.WINDOW_MISSED)

    assert (await publish.publish(missed)).failed == 1

    assert len(receiver.requests) == MAX_ATTEMPTS
    [row] = deliveries(resources, missed.key)
    assert row.status == "failed" and row.last_error
    assert "chat-token-abcdef" not in row.last_error
    assert row.last_error.startswith("Apprise could not deliver")


def test_channel_secrets_are_stored_sealed(resources: Resources, store: Store) -> None:
    channel_id = store.channel(
        "sealed-hook", ChannelKind.WEBHOOK, {"url": "http://127.0.0.1:9/x"}, HMAC_KEY
    )
    with Session(resources.engine) as session:
        row = session.get(NotificationChannel, channel_id)
        assert row is not None and row.secret_ciphertext is not None
        assert HMAC_KEY.encode() not in row.secret_ciphertext
        assert HMAC_KEY not in json.dumps(row.config)
        assert row.key_id == resources.secrets.current_key_id


async def test_a_dead_channel_does_not_hold_up_a_healthy_one(
    publish: Publisher, resources: Resources, store: Store, receiver: HttpReceiver
) -> None:
    with http_receiver() as dead:
        dead.script = [500] * 10
        store.rule(webhook(store, dead, "dead-first"))  # the lower id: tried first
        store.rule(webhook(store, receiver, "healthy-second"))
        completed = event(EventKind.CAMPAIGN_COMPLETED)

        result = await publish.publish(completed)

    assert (result.sent, result.failed) == (1, 1)
    [delivered] = receiver.requests
    assert len(dead.requests) == MAX_ATTEMPTS
    assert delivered.at < dead.requests[1].at  # before the dead one's first retry
