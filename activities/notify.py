"""Notification activities: record an event, then deliver it to every channel a rule names.

Idempotent by the event's key: the event and one delivery row per channel are recorded
before anything is sent, and a delivery is marked sent as soon as its receiver accepted it,
so a retried activity (a crashed worker) sends only what is still pending. The one gap, a
crash after the receiver accepted and before the mark, resends with the same idempotency
key (webhook ``Idempotency-Key``, e-mail Message-ID) for the receiver to drop.

Failed attempts are retried here, in rounds over the event's channels, with exponential
backoff (settings ``notify_*``); a
delivery that runs out of attempts, or that its receiver refuses for good, is marked failed,
audited and logged: never dropped silently. Sends are synchronous (smtplib, Apprise, httpx), so
these run on the ``notifications`` queue's thread pool.
"""

from __future__ import annotations

import time

from pydantic import BaseModel
from sqlmodel import Session
from temporalio import activity

from activities.audit_trail import audit
from activities.names import Notify
from activities.resources import Resources
from activities.tickets import send_ticket
from domain.notifications import ChannelKind, DeliveryStatus, NotificationEvent, retry_delay
from domain.notify_channels import EmailConfig, WebhookConfig
from integrations.notify.chat import send_apprise
from integrations.notify.email import send_email
from integrations.notify.errors import DeliveryError
from integrations.notify.http import HttpOptions
from integrations.notify.webhook import post_webhook
from store import notify_outbox
from store.notify_outbox import Outbound

DELIVERY_FAILED = "notification.failed"
HEARTBEAT_EVERY_S = 5.0


class PublishResult(BaseModel):
    sent: int = 0
    failed: int = 0


class NotifyActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Notify.PUBLISH)
    def publish(self, event: NotificationEvent) -> PublishResult:
        """Every pending delivery of the event is tried once per round, so a dead channel
        never delays the others; the ones that failed retryably wait out the backoff and go
        again."""
        with Session(self.resources.engine) as session:
            pending = notify_outbox.record(session, event)
        result = PublishResult()
        settings = self.resources.settings
        failed_rounds = 0
        while pending:
            retry = []
            for delivery_id in pending:
                status = self.try_once(delivery_id)
                if status is DeliveryStatus.PENDING:
                    retry.append(delivery_id)
                elif status is DeliveryStatus.SENT:
                    result.sent += 1
                else:
                    result.failed += 1
            pending = retry
            if pending:
                failed_rounds += 1
                self.wait(
                    retry_delay(
                        failed_rounds, settings.notify_backoff_s, settings.notify_backoff_max_s
                    )
                )
        return result

    def try_once(self, delivery_id: int) -> DeliveryStatus:
        """One attempt, recorded; the delivery's status after it."""
        with Session(self.resources.engine) as session:
            outbound = notify_outbox.outbound(session, self.resources.secrets, delivery_id)
        if outbound is None:  # finished by an earlier attempt of this activity
            return DeliveryStatus.SENT
        error, retryable = self.attempt(outbound)
        attempts = outbound.attempts + 1
        final = error is not None and (
            not retryable or attempts >= self.resources.settings.notify_max_attempts
        )
        with Session(self.resources.engine) as session:
            notify_outbox.record_attempt(session, delivery_id, error, final=final)
        if error is None:
            return DeliveryStatus.SENT
        if final:
            self.report_failure(outbound, attempts, error)
            return DeliveryStatus.FAILED
        return DeliveryStatus.PENDING

    def attempt(self, outbound: Outbound) -> tuple[str | None, bool]:
        """(error, retryable) of one send; (None, False) when it was accepted."""
        if not outbound.channel_enabled:
            return "the channel is disabled", False
        try:
            self.send(outbound)
        except DeliveryError as exc:
            return str(exc), exc.retryable
        return None, False

    def send(self, outbound: Outbound) -> None:
        settings = self.resources.settings
        kind, secret, event = ChannelKind(outbound.channel_kind), outbound.secret, outbound.event
        options = HttpOptions(settings.notify_timeout_s, settings.notify_ca_bundle)
        if kind is ChannelKind.WEBHOOK:
            url = str(WebhookConfig.model_validate(outbound.config).url)
            post_webhook(url, secret or "", event, options)
        elif kind is ChannelKind.SERVICENOW:
            send_ticket(self.resources, outbound, options)
        elif kind is ChannelKind.EMAIL:
            send_email(
                EmailConfig.model_validate(outbound.config),
                secret,
                event,
                timeout_s=settings.notify_timeout_s,
                ca_bundle=settings.notify_ca_bundle,
            )
        else:
            send_apprise(secret or "", event)

    def wait(self, seconds: float) -> None:
        """Sleep between attempts, heartbeating: a worker that dies meanwhile is noticed."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            activity.heartbeat()
            time.sleep(min(left, HEARTBEAT_EVERY_S))
        activity.heartbeat()

    def report_failure(self, outbound: Outbound, attempts: int, error: str) -> None:
        target = f"notification:{outbound.event.key}/channel:{outbound.channel_name}"
        detail = f"{outbound.event.kind.value} not delivered after {attempts} attempt(s): {error}"
        audit(self.resources, DELIVERY_FAILED, target, "failed", detail)
        activity.logger.warning(
            "notification not delivered",
            extra={
                "channel": outbound.channel_name,
                "event_key": outbound.event.key,
                "error": error,
            },
        )

    def all(self) -> list[object]:
        return [self.publish]
