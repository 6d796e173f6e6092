"""ServiceNow change requests on real parts: the notification activities on a Temporal
worker, PostgreSQL, and the ServiceNow Table API simulator on loopback. Exactly one change
request per campaign, whatever is retried or races."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from activities.resources import Resources
from domain.notifications import ChannelKind, DeliveryStatus, EventKind
from domain.tickets import correlation_id, legacy_correlation_id
from simulators.servicenow import Instance, servicenow
from store.installation import installation_id
from store.notifications import ChangeTicket, NotificationChannel
from tests.integration.notify.conftest import Store
from tests.integration.notify.publishing import Publisher, event
from tests.integration.notify.test_delivery import deliveries

USER, PASSWORD = "idrac-orch", "sn-password-42"


@pytest.fixture
def instance() -> Iterator[Instance]:
    with servicenow(users={USER: PASSWORD}) as running:
        yield running


def ticket_channel(store: Store, instance: Instance, campaign_id: int, password: str) -> None:
    config = {"instance_url": instance.url, "username": USER}
    channel = store.channel(f"change-{campaign_id}", ChannelKind.SERVICENOW, config, password)
    store.rule(channel, campaign_id=campaign_id)


def correlation(resources: Resources, campaign_id: int) -> str:
    with Session(resources.engine) as session:
        return correlation_id(campaign_id, installation_id(session))


def ticket(resources: Resources, campaign_id: int) -> ChangeTicket:
    with Session(resources.engine) as session:
        return session.exec(
            select(ChangeTicket).where(ChangeTicket.campaign_id == campaign_id)
        ).one()


async def test_a_campaign_opens_one_change_request_notes_each_host_and_closes_it(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)

    await publish.publish(event(EventKind.CAMPAIGN_PLANNED, campaign))  # nothing approved yet
    assert instance.records == {}
    await publish.publish(event(EventKind.CAMPAIGN_STARTED, campaign))
    for _ in range(2):
        await publish.publish(event(EventKind.HOST_FINISHED, campaign))
    done = event(EventKind.CAMPAIGN_COMPLETED, campaign)
    await publish.publish(done)
    await publish.publish(done)  # a retried activity: no second close, no second note

    [record] = instance.records.values()
    assert record["correlation_id"] == correlation(resources, campaign)
    assert record["short_description"] == f"iDRAC firmware campaign {campaign}"
    assert (record["state"], record["close_code"]) == ("3", "successful")
    assert "event: campaign.completed" in record["close_notes"]
    notes = instance.notes[record["sys_id"]]
    assert len(notes) == 2 and all("event: host.finished" in note for note in notes)
    stored = ticket(resources, campaign)
    assert (stored.sys_id, stored.number) == (record["sys_id"], record["number"])
    assert stored.closed_at is not None


async def test_a_503_is_retried_and_racing_events_still_open_one_request(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)
    instance.fail_next(2)

    started = event(EventKind.CAMPAIGN_STARTED, campaign)
    host = event(EventKind.HOST_FINISHED, campaign)
    results = await asyncio.gather(publish.publish(started), publish.publish(host))

    assert [(r.sent, r.failed) for r in results] == [(1, 0), (1, 0)]
    [record] = instance.find(correlation_id=correlation(resources, campaign))
    assert len(instance.notes[record["sys_id"]]) == 1
    assert sum(method == "POST" for method, _ in instance.requests) == 1
    assert ticket(resources, campaign).sys_id == record["sys_id"]
    [delivery] = deliveries(resources, host.key)
    assert delivery.status == DeliveryStatus.SENT.value


async def test_a_request_created_before_a_crash_is_found_not_created_again(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)
    # The create reached ServiceNow but its answer was lost with the worker.
    earlier = instance.insert({"correlation_id": correlation(resources, campaign)})

    await publish.publish(event(EventKind.CAMPAIGN_STARTED, campaign))

    assert list(instance.records) == [earlier["sys_id"]]
    assert ticket(resources, campaign).number == earlier["number"]


async def test_a_campaign_that_never_started_closes_nothing(
    publish: Publisher, store: Store, instance: Instance
) -> None:
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)

    result = await publish.publish(event(EventKind.CAMPAIGN_FAILED, campaign))

    assert (result.sent, result.failed) == (1, 0)
    assert instance.records == {}


async def test_a_wrong_password_fails_at_once_and_opens_nothing(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, "not-the-password")
    started = event(EventKind.CAMPAIGN_STARTED, campaign)

    result = await publish.publish(started)

    assert (result.sent, result.failed) == (0, 1)
    [delivery] = deliveries(resources, started.key)
    assert (delivery.attempts, delivery.last_error) == (1, "the receiver answered HTTP 401")
    assert instance.records == {}


async def test_another_installations_requests_for_the_same_campaign_are_left_alone(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    """Campaign ids repeat between installations sharing one instance (and in a database
    rebuilt from scratch): the correlation id carries the installation id, so neither a
    newer installation's request nor one opened before 0016 is found, noted or closed."""
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)
    other_installation = str(uuid.uuid4())
    theirs = instance.insert({"correlation_id": correlation_id(campaign, other_installation)})
    before_0016 = instance.insert({"correlation_id": legacy_correlation_id(campaign)})
    untouched = {r["sys_id"]: dict(r) for r in (theirs, before_0016)}

    for kind in (EventKind.CAMPAIGN_STARTED, EventKind.HOST_FINISHED):
        await publish.publish(event(kind, campaign))
    await publish.publish(event(EventKind.CAMPAIGN_COMPLETED, campaign))

    [ours] = instance.find(correlation_id=correlation(resources, campaign))
    assert ours["sys_id"] not in untouched and ours["state"] == "3"
    assert ticket(resources, campaign).sys_id == ours["sys_id"]
    for sys_id, record in untouched.items():
        assert instance.records[sys_id] == record
        assert instance.notes[sys_id] == []
    assert len(instance.records) == 3


async def test_a_ticket_claimed_before_0016_finds_its_request_by_the_old_id(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    """A create answered to nobody just before the upgrade: migration 0016 marked the
    claimed row legacy_correlation, and that row alone also looks for the old id."""
    campaign = store.campaign()
    ticket_channel(store, instance, campaign, PASSWORD)
    with Session(resources.engine) as session:  # the row as 0016 left it: no sys_id
        channel = session.exec(
            select(NotificationChannel).where(NotificationChannel.name == f"change-{campaign}")
        ).one()
        session.add(
            ChangeTicket(channel_id=channel.id or 0, campaign_id=campaign, legacy_correlation=True)
        )
        session.commit()
    earlier = instance.insert({"correlation_id": legacy_correlation_id(campaign)})

    await publish.publish(event(EventKind.CAMPAIGN_STARTED, campaign))
    await publish.publish(event(EventKind.HOST_FINISHED, campaign))

    assert list(instance.records) == [earlier["sys_id"]]
    assert ticket(resources, campaign).number == earlier["number"]
    assert len(instance.notes[earlier["sys_id"]]) == 1


async def test_a_channel_stored_with_a_clear_text_instance_sends_nothing(
    publish: Publisher, resources: Resources, store: Store, instance: Instance
) -> None:
    """A channel saved before instance_url had to be https: the password is not sent in
    clear text; the delivery fails at once saying what to change."""
    campaign = store.campaign()
    config = {"instance_url": "http://sn.example.invalid", "username": USER}
    channel = store.channel(f"clear-{campaign}", ChannelKind.SERVICENOW, config, PASSWORD)
    store.rule(channel, campaign_id=campaign)
    started = event(EventKind.CAMPAIGN_STARTED, campaign)

    result = await publish.publish(started)

    assert (result.sent, result.failed) == (0, 1)
    [delivery] = deliveries(resources, started.key)
    assert delivery.attempts == 1 and delivery.last_error is not None
    assert "instance_url must be https" in delivery.last_error
    assert PASSWORD not in delivery.last_error
    assert instance.requests == []
