"""The notification outbox: events recorded once by key, a delivery row per matching
channel, and each delivery's attempts. Activities use it; so does nothing else that sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common.logging import register_secret
from domain.notifications import DeliveryStatus, NotificationEvent, RuleView, channels_for
from store.crypto import Sealed, SecretBox
from store.models import utcnow
from store.notifications import (
    NotificationChannel,
    NotificationDelivery,
    NotificationEventRow,
    NotificationRule,
)


def _event_row(session: Session, event: NotificationEvent) -> NotificationEventRow:
    """The event's row, inserted on first sight; a retry (or a racing attempt) finds it."""
    found = session.exec(
        select(NotificationEventRow).where(NotificationEventRow.key == event.key)
    ).first()
    if found is not None:
        return found
    row = NotificationEventRow(**event.model_dump(exclude={"kind"}), kind=event.kind.value)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return session.exec(
            select(NotificationEventRow).where(NotificationEventRow.key == event.key)
        ).one()
    session.refresh(row)
    return row


def _rules(session: Session) -> list[RuleView]:
    rows = session.exec(select(NotificationRule).where(col(NotificationRule.enabled))).all()
    return [
        RuleView(channel_id=r.channel_id, kinds=r.kinds, campaign_id=r.campaign_id) for r in rows
    ]


def record(session: Session, event: NotificationEvent) -> list[int]:
    """Record the event and a delivery for each channel a rule sends it to; return the
    deliveries still pending (none sent twice: a sent one is never pending again)."""
    row = _event_row(session, event)
    for channel_id in channels_for(_rules(session), event):
        delivery = NotificationDelivery(
            event_id=row.id or 0, channel_id=channel_id, status=DeliveryStatus.PENDING.value
        )
        session.add(delivery)
        try:
            session.commit()
        except IntegrityError:  # recorded by an earlier attempt of this activity
            session.rollback()
    pending = session.exec(
        select(NotificationDelivery.id)
        .where(
            NotificationDelivery.event_id == row.id,
            NotificationDelivery.status == DeliveryStatus.PENDING.value,
        )
        .order_by(col(NotificationDelivery.id))
    ).all()
    return [ident for ident in pending if ident is not None]


@dataclass(frozen=True)
class Outbound:
    """One pending delivery with what sending it needs (the secret only in memory)."""

    delivery_id: int
    attempts: int
    channel_id: int
    channel_name: str
    channel_kind: str
    channel_enabled: bool
    config: dict[str, object]
    secret: str | None
    event: NotificationEvent


def seal_channel_secret(channel: NotificationChannel, box: SecretBox, secret: str | None) -> None:
    if secret is None:
        channel.secret_ciphertext, channel.key_id = None, None
    else:
        sealed = box.seal(secret)
        channel.secret_ciphertext, channel.key_id = sealed.ciphertext, sealed.key_id
    channel.updated_at = utcnow()


def reveal_channel_secret(channel: NotificationChannel, box: SecretBox) -> str | None:
    """Decrypted for one send, and registered so that no log line can show it."""
    if channel.secret_ciphertext is None or channel.key_id is None:
        return None
    secret = box.open(Sealed(channel.secret_ciphertext, channel.key_id))
    register_secret(secret)
    return secret


def outbound(session: Session, box: SecretBox, delivery_id: int) -> Outbound | None:
    """The delivery ready to send, or None once it is no longer pending."""
    delivery = session.get(NotificationDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING.value:
        return None
    channel = session.get(NotificationChannel, delivery.channel_id)
    event = session.get(NotificationEventRow, delivery.event_id)
    assert channel is not None and event is not None  # foreign keys
    return Outbound(
        delivery_id=delivery_id,
        attempts=delivery.attempts,
        channel_id=delivery.channel_id,
        channel_name=channel.name,
        channel_kind=channel.kind,
        channel_enabled=channel.enabled,
        config=dict(channel.config),
        secret=reveal_channel_secret(channel, box) if channel.enabled else None,
        event=NotificationEvent.model_validate(event, from_attributes=True),
    )


def record_attempt(
    session: Session, delivery_id: int, error: str | None, *, final: bool = False
) -> NotificationDelivery:
    """One attempt's result: sent (error None), still pending, or failed for good (final)."""
    delivery = session.get(NotificationDelivery, delivery_id)
    assert delivery is not None
    now = utcnow()
    delivery.attempts += 1
    delivery.updated_at = now
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = (
            DeliveryStatus.SENT.value,
            now,
            None,
        )
    else:
        delivery.last_error = error[:2000]
        if final:
            delivery.status = DeliveryStatus.FAILED.value
    session.add(delivery)
    session.commit()
    session.refresh(delivery)
    return delivery


def rotate_channel_secrets(session: Session, box: SecretBox) -> int:
    """Re-seal every channel secret not under the current key (the caller commits)."""
    rotated = 0
    for channel in session.exec(select(NotificationChannel)).all():
        if channel.key_id is None or channel.key_id == box.current_key_id:
            continue
        seal_channel_secret(channel, box, reveal_channel_secret(channel, box))
        session.add(channel)
        rotated += 1
    return rotated


class NotFailedError(ValueError):
    """Only a failed delivery can be sent again (a pending one is still being tried)."""


def requeue(session: Session, delivery_id: int) -> tuple[NotificationDelivery, NotificationEvent]:
    """A failed delivery back to pending with a fresh allowance of attempts (its last error
    kept until the next attempt); the event to publish again."""
    delivery = session.get(NotificationDelivery, delivery_id)
    if delivery is None:
        raise LookupError(f"notification delivery {delivery_id} does not exist")
    if delivery.status != DeliveryStatus.FAILED.value:
        raise NotFailedError(f"the delivery is {delivery.status}, not failed")
    event = session.get(NotificationEventRow, delivery.event_id)
    assert event is not None  # foreign key
    delivery.status, delivery.attempts, delivery.updated_at = (
        DeliveryStatus.PENDING.value,
        0,
        utcnow(),
    )
    session.add(delivery)
    session.commit()
    session.refresh(delivery)
    return delivery, NotificationEvent.model_validate(event, from_attributes=True)


def fail_requeued(session: Session, delivery_id: int, reason: str) -> None:
    """Undo a requeue whose resend could not be started: failed again, saying why."""
    delivery = session.get(NotificationDelivery, delivery_id)
    assert delivery is not None
    delivery.status, delivery.last_error = DeliveryStatus.FAILED.value, reason[:2000]
    delivery.updated_at = utcnow()
    session.add(delivery)
    session.commit()
