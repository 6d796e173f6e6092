"""The pure parts of notifications: rule matching, keys, wording, backoff, signatures and
how an Apprise error is masked."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.notifications import (
    EventKind,
    NotificationEvent,
    RuleView,
    body,
    channels_for,
    event_key,
    retry_delay,
    retryable_status,
    title,
)
from integrations.notify.chat import masked
from integrations.notify.webhook import payload, sign

EVENT = NotificationEvent(
    key="campaign-3/host.held/ABC1234",
    kind=EventKind.HOST_HELD,
    campaign_id=3,
    subject="host ABC1234 (campaign 3)",
    detail="held at verify",
    occurred_at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
)


def test_rules_pick_channels_by_kind_campaign_and_enabled() -> None:
    rules = [
        RuleView(channel_id=1),  # everything, everywhere
        RuleView(channel_id=2, kinds=[EventKind.CAMPAIGN_FAILED]),
        RuleView(channel_id=3, campaign_id=4),
        RuleView(channel_id=4, campaign_id=3, kinds=[EventKind.HOST_HELD]),
        RuleView(channel_id=5, enabled=False),
        RuleView(channel_id=1, kinds=[EventKind.HOST_HELD]),  # a second rule, same channel
    ]
    assert channels_for(rules, EVENT) == [1, 4]
    global_event = EVENT.model_copy(update={"campaign_id": None, "kind": EventKind.DRIFT_FOUND})
    assert channels_for(rules, global_event) == [1]


def test_keys_tell_events_apart_and_are_stable() -> None:
    assert event_key("campaign-3", EventKind.HOST_HELD, "ABC") == "campaign-3/host.held/ABC"
    assert event_key("campaign-3", EventKind.CAMPAIGN_PAUSED, 2) == "campaign-3/campaign.paused/2"
    assert event_key("campaign-3", EventKind.CAMPAIGN_STARTED) == "campaign-3/campaign.started"


def test_wording() -> None:
    assert title(EVENT) == "[idrac-orch] host.held: host ABC1234 (campaign 3)"
    assert body(EVENT).splitlines() == [
        "event: host.held",
        "subject: host ABC1234 (campaign 3)",
        "at: 2026-12-05T12:00:00+00:00",
        "campaign: 3",
        "",
        "held at verify",
        "",
        "event id: campaign-3/host.held/ABC1234",
    ]


@given(st.integers(min_value=1, max_value=60))
def test_backoff_doubles_up_to_the_cap(attempt: int) -> None:
    delay = retry_delay(attempt, 2.0, 60.0)
    assert delay == min(60.0, 2.0 * 2 ** (attempt - 1))
    assert retry_delay(attempt + 1, 2.0, 60.0) >= delay


def test_what_is_worth_retrying() -> None:
    assert [c for c in (200, 400, 401, 404, 408, 425, 429, 500, 503) if retryable_status(c)] == [
        408,
        425,
        429,
        500,
        503,
    ]


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body_bytes = payload(EVENT)
    expected = hmac.new(b"k" * 16, b"1700000000." + body_bytes, hashlib.sha256).hexdigest()
    assert sign("k" * 16, "1700000000", body_bytes) == f"sha256={expected}"
    assert payload(EVENT) == body_bytes  # stable bytes for the same event


def test_apprise_errors_are_masked_part_by_part() -> None:
    url = "slack://TokenAAAA/TokenBBBB/TokenCCCC/#ops?footer=no&token=zzzz9999"
    said = (
        "Failed to send to slack://TokenAAAA/TokenBBBB/TokenCCCC/ "
        "(https://hooks.slack.com/services/TokenAAAA/TokenBBBB/TokenCCCC): 404 zzzz9999"
    )
    out = masked(said, url)
    for token in ("TokenAAAA", "TokenBBBB", "TokenCCCC", "zzzz9999"):
        assert token not in out
    assert "404" in out and "hooks.slack.com" in out
