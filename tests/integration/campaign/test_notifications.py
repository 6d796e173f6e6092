"""A campaign notifies on real parts: the campaign and cluster workflows emit events, the
notification activities deliver them to a loopback webhook receiver (signed), to aiosmtpd
(STARTTLS) and to the ServiceNow simulator (a change request per campaign), each event once;
the delivery log says so."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from domain.notifications import ChannelKind, DeliveryStatus, EventKind
from domain.runbook import CampaignResult, CampaignState, HostOutcome, HostStatus
from domain.tickets import correlation_id
from simulators.loopback_tls import loopback_certificate
from simulators.servicenow import Instance, servicenow
from store.installation import installation_id
from store.notifications import NotificationChannel, NotificationDelivery, NotificationRule
from store.notify_outbox import seal_channel_secret
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from tests.services.receivers import (
    HttpReceiver,
    SmtpServer,
    http_receiver,
    smtp_server,
)
from workers.main import running_workers
from workflows.campaign import CampaignWorkflow

HMAC_KEY = "campaign-webhook-key-77"
SN_USER, SN_PASSWORD = "idrac-orch", "change-password-31"
POLICY = {"max_concurrent_per_cluster": 1, "min_hosts_online": 1, "global_max_concurrent": 1}


@dataclasses.dataclass
class Receivers:
    webhook: HttpReceiver
    smtp: SmtpServer
    ca_bundle: Path
    tickets: Instance

    def events(self, campaign_id: int) -> list[dict[str, Any]]:
        bodies = [json.loads(r.body) for r in self.webhook.requests]
        return [b for b in bodies if b["campaign_id"] == campaign_id]

    def kinds(self, campaign_id: int) -> list[str]:
        return [event["kind"] for event in self.events(campaign_id)]

    def change_request(self, lab: Lab, campaign_id: int) -> tuple[dict[str, str], list[str]]:
        """The campaign's one change request and its work notes."""
        with Session(lab.resources.engine) as session:
            installation = installation_id(session)
        [record] = self.tickets.find(correlation_id=correlation_id(campaign_id, installation))
        return record, self.tickets.notes[record["sys_id"]]


def _outcomes(result: CampaignResult) -> list[HostOutcome]:
    return [outcome for cluster in result.clusters for outcome in cluster.outcomes]


def _channel(
    lab: Lab, name: str, kind: ChannelKind, config: dict[str, Any], secret: str | None
) -> int:
    with Session(lab.resources.engine) as session:
        channel = NotificationChannel(name=name, kind=kind.value, config=config)
        seal_channel_secret(channel, lab.resources.secrets, secret)
        session.add(channel)
        session.commit()
        assert channel.id is not None
        return channel.id


def _rule(lab: Lab, channel_id: int, kinds: list[EventKind]) -> None:
    with Session(lab.resources.engine) as session:
        session.add(NotificationRule(channel_id=channel_id, kinds=[k.value for k in kinds]))
        session.commit()


@pytest.fixture(scope="module")
def receivers(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receivers]:
    """A webhook and ServiceNow hear every event; e-mail only what needs a human."""
    cert, key = loopback_certificate(tmp_path_factory.mktemp("smtp-tls"))
    with (
        http_receiver() as webhook,
        smtp_server(cert, key) as smtp,
        servicenow(users={SN_USER: SN_PASSWORD}) as tickets,
    ):
        hook = _channel(lab, "ops-hook", ChannelKind.WEBHOOK, {"url": webhook.url}, HMAC_KEY)
        mail_config = {
            "host": smtp.host,
            "port": smtp.port,
            "sender": "orch@lab.test",
            "recipients": ["oncall@lab.test"],
        }
        mail = _channel(lab, "oncall-mail", ChannelKind.EMAIL, mail_config, None)
        sn_config = {"instance_url": tickets.url, "username": SN_USER}
        change = _channel(lab, "changes", ChannelKind.SERVICENOW, sn_config, SN_PASSWORD)
        _rule(lab, hook, [])
        _rule(lab, mail, [EventKind.HOST_HELD, EventKind.WINDOW_MISSED])
        _rule(lab, change, [])
        yield Receivers(webhook, smtp, cert, tickets)


@pytest_asyncio.fixture(scope="module")
async def workers(
    temporal_env: WorkflowEnvironment, lab: Lab, receivers: Receivers
) -> AsyncIterator[None]:
    settings = lab.settings.model_copy(
        update={"notify_backoff_s": 0.1, "notify_ca_bundle": receivers.ca_bundle}
    )
    resources = dataclasses.replace(lab.resources, settings=settings)
    async with running_workers(temporal_env.client, resources):
        yield


def _signed(request_headers: dict[str, str], body: bytes) -> bool:
    timestamp = request_headers["X-Idrac-Orch-Timestamp"]
    mac = hmac.new(HMAC_KEY.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(
        request_headers["X-Idrac-Orch-Signature"], f"sha256={mac.hexdigest()}"
    )


def _deliveries(lab: Lab) -> list[NotificationDelivery]:
    with Session(lab.resources.engine) as session:
        return list(session.exec(select(NotificationDelivery)).all())


@pytest.mark.usefixtures("workers")
async def test_a_held_host_reaches_the_webhook_and_the_mailbox_once(
    temporal_env: WorkflowEnvironment, lab: Lab, receivers: Receivers
) -> None:
    failing = "BLAB002"
    lab.set_faults(failing, version_unchanged=True)
    receivers.tickets.fail_next(2)  # ServiceNow is away when the campaign starts
    try:
        spec = lab.bios_spec(
            {"clusters": ["bravo"]}, BIOS_TARGET, policy={**POLICY, "on_failure": "hold"}
        )
        handle = await lab.start_campaign(temporal_env.client, spec, "notify", timedelta(minutes=5))
        result = await handle.result()
    finally:
        lab.set_faults(failing, version_unchanged=False)
    assert any(o.status is HostStatus.HELD for c in result.clusters for o in c.outcomes)
    campaign_id = result.campaign_id

    outcomes = _outcomes(result)
    kinds = receivers.kinds(campaign_id)
    assert kinds[:2] == ["campaign.planned", "campaign.started"]
    assert kinds.count("host.held") == 1 and kinds[-1] == "campaign.failed"
    assert kinds.count("host.finished") == len(outcomes)
    assert len(kinds) == 4 + len(outcomes)
    held = next(e for e in receivers.events(campaign_id) if e["kind"] == "host.held")
    assert held["subject"] == f"host {failing} (campaign {campaign_id})"
    assert "inventory does not show 159" in held["detail"]
    assert held["key"] == f"campaign-{campaign_id}/host.held/{failing}"
    assert all(_signed(r.headers, r.body) for r in receivers.webhook.requests)

    [mail] = [m for m in receivers.smtp.messages if f"campaign {campaign_id})" in m["Subject"]]
    assert mail["Subject"] == f"[idrac-orch] host.held: host {failing} (campaign {campaign_id})"
    assert receivers.smtp.starttls_used and all(receivers.smtp.starttls_used)
    assert {d.status for d in _deliveries(lab)} == {DeliveryStatus.SENT.value}

    # One change request (the 503s retried, not repeated), a work note per host with its
    # real outcome, closed as unsuccessful.
    record, notes = receivers.change_request(lab, campaign_id)
    finished = [n for n in notes if n.startswith("event: host.finished")]
    assert len(finished) == len(outcomes) and len(notes) == len(outcomes) + 1  # + host.held
    for outcome in outcomes:
        [note] = [n for n in finished if f"subject: host {outcome.service_tag} " in n]
        assert outcome.describe() in note
    assert (record["state"], record["close_code"]) == ("3", "unsuccessful")


@pytest.mark.usefixtures("workers")
async def test_pause_and_resume_are_announced_and_the_end_too(
    temporal_env: WorkflowEnvironment, lab: Lab, receivers: Receivers
) -> None:
    spec = lab.bios_spec({"clusters": ["alpha"]}, "2.12.0", policy=POLICY)
    handle = await lab.start_campaign(temporal_env.client, spec, "notify", timedelta(minutes=5))
    await handle.signal(CampaignWorkflow.pause)
    await handle.signal(CampaignWorkflow.pause)  # a second pause changes nothing: no event
    await handle.signal(CampaignWorkflow.resume)
    result = await handle.result()
    assert result.state is CampaignState.COMPLETED

    kinds = receivers.kinds(result.campaign_id)
    finished = ["host.finished"] * len(_outcomes(result))
    assert sorted(kinds) == sorted(
        [
            "campaign.planned",
            "campaign.started",
            "campaign.paused",
            "campaign.resumed",
            *finished,
            "campaign.completed",
        ]
    )
    # In the order the campaign emitted them (the pause may land while it still plans).
    assert kinds.index("campaign.paused") < kinds.index("campaign.resumed")
    assert kinds.index("campaign.planned") < kinds.index("campaign.started")
    assert kinds[-1] == "campaign.completed"
    record, notes = receivers.change_request(lab, result.campaign_id)
    assert record["close_code"] == "successful"
    assert len(notes) == len(kinds) - 3  # all but planned, started and the close


@pytest.mark.usefixtures("workers")
async def test_a_window_that_has_passed_is_reported_missed(
    temporal_env: WorkflowEnvironment, lab: Lab, receivers: Receivers
) -> None:
    closed = datetime.now(UTC) - timedelta(days=1)
    window = {
        "kind": "once",
        "timezone": "UTC",
        "starts_at": closed.isoformat(),
        "ends_at": (closed + timedelta(hours=2)).isoformat(),
    }
    spec = lab.bios_spec({"clusters": ["alpha"]}, "2.13.0", windows=[window], policy=POLICY)
    handle = await lab.start_campaign(temporal_env.client, spec, "notify", timedelta(minutes=5))
    result = await handle.result()
    assert result.state is CampaignState.FINISHED_WITH_FAILURES

    missed = [e for e in receivers.events(result.campaign_id) if e["kind"] == "window.missed"]
    assert len(missed) == 1
    assert missed[0]["subject"] == f"cluster alpha (campaign {result.campaign_id})"
    assert receivers.kinds(result.campaign_id)[-1] == "campaign.failed"
    assert any(
        m["Subject"].startswith("[idrac-orch] window.missed: cluster alpha")
        for m in receivers.smtp.messages
    )
