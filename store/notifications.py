"""Notification tables: channels (their secret sealed like credentials), rules, the events
workflows reported and one delivery row per event and channel.

The delivery row is what makes sending idempotent: it is keyed by (event, channel), created
before the first attempt and marked sent once the receiver accepted, so a retried activity
sends only what is not marked yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models import _ts, utcnow


class NotificationChannel(SQLModel, table=True):
    """Where notifications go. ``config`` holds what is not secret (a webhook's URL, an SMTP
    server and recipients); the secret (HMAC key, SMTP password, Apprise URL) is AES-GCM
    ciphertext under ``key_id``, never returned by the API."""

    __tablename__ = "notification_channels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    kind: str = Field(max_length=16)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secret_ciphertext: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    key_id: str | None = Field(default=None, max_length=32, index=True)
    enabled: bool = True
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class NotificationRule(SQLModel, table=True):
    """Send events of ``kinds`` (empty: all) of campaign ``campaign_id`` (none: every
    campaign) to one channel."""

    __tablename__ = "notification_rules"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="notification_channels.id", index=True)
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    enabled: bool = True
    created_at: datetime = _ts(default_factory=utcnow)


class NotificationEventRow(SQLModel, table=True):
    """An event as a workflow reported it; ``key`` is its idempotency key."""

    __tablename__ = "notification_events"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=32, index=True)
    campaign_id: int | None = Field(default=None, index=True)
    subject: str = Field(max_length=255)
    detail: str = Field(default="", max_length=2000)
    occurred_at: datetime = _ts()
    recorded_at: datetime = _ts(default_factory=utcnow)


class NotificationDelivery(SQLModel, table=True):
    """One event to one channel: pending until the receiver accepted it, failed (with the
    last error) once every attempt failed."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel_id", name="uq_notification_deliveries_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="notification_events.id", index=True)
    channel_id: int = Field(foreign_key="notification_channels.id", index=True)
    status: str = Field(max_length=16, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)
    sent_at: datetime | None = _ts(default=None, nullable=True)


class ChangeTicket(SQLModel, table=True):
    """A campaign's change request in one ticket channel (ServiceNow). The row is claimed,
    locked, before the request is created and holds its ``sys_id`` and ``number`` from the
    moment ServiceNow answered: one campaign never opens two."""

    __tablename__ = "change_tickets"
    __table_args__ = (
        UniqueConstraint("channel_id", "campaign_id", name="uq_change_tickets_campaign"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="notification_channels.id", index=True)
    campaign_id: int = Field(index=True)
    sys_id: str | None = Field(default=None, max_length=32)
    number: str | None = Field(default=None, max_length=40)
    # Claimed before migration 0016: a request without a stored sys_id may exist under the
    # old correlation id, which carried no installation id (domain/tickets.py).
    legacy_correlation: bool = Field(default=False)
    closed_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)
