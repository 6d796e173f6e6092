"""Notifications, the pure part: which events exist, what one carries, which rules send it
where, how a message reads and how long a failed delivery waits before the next try.

Workflows build events (safe in the sandbox: no I/O, no clock; ``occurred_at`` comes from
``workflow.now()``); activities match them against the stored rules and deliver them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

PUBLISH_WORKFLOW = "NotificationPublishWorkflow"


def resend_workflow_id(delivery_id: int, attempts: int) -> str:
    """One resend per failed state of a delivery: a second request for the same failure is
    the same workflow."""
    return f"notification-resend-{delivery_id}-{attempts}"


class EventKind(StrEnum):
    CAMPAIGN_PLANNED = "campaign.planned"
    CAMPAIGN_STARTED = "campaign.started"
    CAMPAIGN_PAUSED = "campaign.paused"
    CAMPAIGN_RESUMED = "campaign.resumed"
    CAMPAIGN_COMPLETED = "campaign.completed"
    CAMPAIGN_FAILED = "campaign.failed"
    CAMPAIGN_ABORTED = "campaign.aborted"
    HOST_HELD = "host.held"
    HOST_FINISHED = "host.finished"  # every host's outcome, whatever it is
    WINDOW_MISSED = "window.missed"
    APPROVAL_NEEDED = "approval.needed"
    DRIFT_FOUND = "drift.found"


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"  # JSON POST signed with HMAC-SHA256
    EMAIL = "email"  # SMTP with STARTTLS
    APPRISE = "apprise"  # chat services (Slack, Teams, Mattermost, ...) through Apprise
    SERVICENOW = "servicenow"  # one change request per campaign (Table API)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet accepted by the receiver
    SENT = "sent"
    FAILED = "failed"  # every attempt failed, or the receiver refused for good


class NotificationEvent(BaseModel):
    """One thing that happened. ``key`` is its idempotency key: the same key is the same
    event, however often a retried activity (or a replayed workflow) hands it over."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=200)
    kind: EventKind
    campaign_id: int | None = None
    subject: str = Field(max_length=255, description="What it is about: a campaign, a host")
    detail: str = Field(default="", max_length=2000)
    occurred_at: datetime


class RuleView(BaseModel):
    """A stored rule as matching needs it. No kinds: every kind. No campaign: every campaign
    (a global rule)."""

    model_config = ConfigDict(frozen=True)

    channel_id: int
    kinds: list[EventKind] = Field(default_factory=list)
    campaign_id: int | None = None
    enabled: bool = True


def rule_matches(rule: RuleView, event: NotificationEvent) -> bool:
    if not rule.enabled:
        return False
    if rule.campaign_id is not None and rule.campaign_id != event.campaign_id:
        return False
    return not rule.kinds or event.kind in rule.kinds


def channels_for(rules: Iterable[RuleView], event: NotificationEvent) -> list[int]:
    """Every channel some rule sends this event to, each once, in id order."""
    return sorted({rule.channel_id for rule in rules if rule_matches(rule, event)})


def event_key(workflow_id: str, kind: EventKind, discriminator: str | int = "") -> str:
    """A key stable across retries and replays: the workflow, the kind, and what tells
    apart two events of that kind in one workflow (a counter, a host)."""
    suffix = f"/{discriminator}" if discriminator != "" else ""
    return f"{workflow_id}/{kind.value}{suffix}"


def title(event: NotificationEvent) -> str:
    return f"[idrac-orch] {event.kind.value}: {event.subject}"


def body(event: NotificationEvent) -> str:
    lines = [
        f"event: {event.kind.value}",
        f"subject: {event.subject}",
        f"at: {event.occurred_at.isoformat()}",
    ]
    if event.campaign_id is not None:
        lines.append(f"campaign: {event.campaign_id}")
    if event.detail:
        lines += ["", event.detail]
    lines += ["", f"event id: {event.key}"]
    return "\n".join(lines)


def retry_delay(failed_attempts: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff after the n-th failed attempt (1-based): base, 2*base, 4*base, ...
    up to cap."""
    return float(min(cap_s, base_s * 2 ** max(0, failed_attempts - 1)))


def retryable_status(status_code: int) -> bool:
    """A receiver's HTTP answer worth another try: server errors, timeouts, rate limits.
    Any other 4xx (bad signature, unknown path) will not change by waiting."""
    return status_code >= 500 or status_code in (408, 425, 429)
