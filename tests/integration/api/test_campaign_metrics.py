"""Campaign metrics on /metrics: what the workers' store activity records, the API's
Prometheus endpoint counts (hosts by outcome, runbook time, hosts held now); and the
Grafana dashboard charts only metrics the API really serves."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import event, func, text
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.audit_trail import ACTOR, MAINTENANCE_ENTER, MAINTENANCE_EXIT
from activities.campaign_store import CampaignStoreActivities
from activities.resources import Resources
from api.campaign_metrics import CampaignCollector
from domain.campaign_spec import CampaignSpec
from domain.runbook import HostOutcome, HostStatus
from domain.wait_reasons import WaitCategory
from store.audit import AuditRecord, append
from store.models import AuditEvent, Campaign
from tests.integration.api.conftest import Api

DASHBOARD = Path(__file__).parents[3] / "deploy" / "grafana" / "idrac-orch.json"
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$", re.M)


def _scrape(api: Api) -> dict[str, float]:
    with api.client() as anonymous:
        text = anonymous.get("/metrics").text
    return {f"{m['name']}{{{m['labels'] or ''}}}": float(m["value"]) for m in SAMPLE.finditer(text)}


def _server(admin: httpx.Client) -> str:
    tag = uuid.uuid4().hex[:7].upper()
    created = admin.post("/servers", json={"service_tag": tag, "idrac_address": "10.20.30.41"})
    assert created.status_code == 201, created.text
    return tag


def _campaign(session: Session, tag: str, status: str) -> int:
    """A campaign row as the API stores it (a valid spec: other tests list campaigns)."""
    spec = CampaignSpec(
        targets={"service_tags": [tag]},
        firmware=[{"component_id": "159", "version": "2.0", "package_id": 1}],
    )
    campaign = Campaign(
        name=f"metrics-{status}", spec=spec.model_dump(mode="json"), created_by="t", status=status
    )
    session.add(campaign)
    session.commit()
    assert campaign.id is not None
    return campaign.id


def _outcome(tag: str, status: HostStatus, minutes: int) -> HostOutcome:
    start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    return HostOutcome(
        service_tag=tag,
        status=status,
        started_at=start,
        finished_at=start + timedelta(minutes=minutes),
    )


def test_recorded_host_outcomes_appear_on_metrics(api: Api, admin: httpx.Client) -> None:
    resources = Resources.from_settings(api.settings)
    store = CampaignStoreActivities(resources)
    updated, held, fixed_later = _server(admin), _server(admin), _server(admin)
    before = _scrape(api)
    with Session(resources.engine) as session:
        campaign_id = _campaign(session, updated, "aborted")

    env = ActivityEnvironment()
    for tag, status, minutes in (
        (updated, HostStatus.UPDATED, 30),
        (held, HostStatus.HELD, 45),
        (fixed_later, HostStatus.HELD, 15),
    ):
        env.run(store.record_host_outcome, campaign_id, "alpha", _outcome(tag, status, minutes))
    with Session(resources.engine) as session:  # a later campaign updates the third host
        later_id = _campaign(session, fixed_later, "completed")
    env.run(
        store.record_host_outcome, later_id, "alpha", _outcome(fixed_later, HostStatus.UPDATED, 20)
    )
    after = _scrape(api)
    resources.engine.dispose()

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta('idrac_orch_host_updates_total{status="updated"}') == 2
    assert delta('idrac_orch_host_updates_total{status="held"}') == 2
    assert delta("idrac_orch_host_update_duration_seconds_count{}") == 4
    assert delta("idrac_orch_host_update_duration_seconds_sum{}") == (30 + 45 + 15 + 20) * 60
    assert delta("idrac_orch_hosts_held{}") == 1  # the one a later campaign updated is not
    assert delta('idrac_orch_campaigns{status="aborted"}') == 1
    assert delta('idrac_orch_campaigns{status="completed"}') == 1


def test_time_in_maintenance_from_the_audit_trail(api: Api, admin: httpx.Client) -> None:
    """Entry to exit per host and campaign; a host still in maintenance is not counted."""
    resources = Resources.from_settings(api.settings)
    back, still_in = _server(admin), _server(admin)
    before = _scrape(api)
    with Session(resources.engine) as session:
        campaign_id = _campaign(session, back, "running")
    entered = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    for tag, action, at in (
        (back, MAINTENANCE_ENTER, entered),
        (still_in, MAINTENANCE_ENTER, entered),
        (back, MAINTENANCE_EXIT, entered + timedelta(minutes=40)),
    ):
        target = f"campaign:{campaign_id}/host:{tag}"
        append(resources.engine, AuditRecord(ACTOR, action, target, "success"), at=at)
    after = _scrape(api)
    resources.engine.dispose()

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    histogram = "idrac_orch_host_maintenance_seconds"
    assert delta(f"{histogram}_count{{}}") == 1
    assert delta(f"{histogram}_sum{{}}") == 40 * 60
    assert delta(f'{histogram}_bucket{{le="1800.0"}}') == 0
    assert delta(f'{histogram}_bucket{{le="2700.0"}}') == 1


def _histogram(collector: CampaignCollector) -> tuple[float, float]:
    [family] = [m for m in collector.collect() if m.name == "idrac_orch_host_maintenance_seconds"]
    samples = {s.name: s.value for s in family.samples}
    return samples["idrac_orch_host_maintenance_seconds_count"], samples[
        "idrac_orch_host_maintenance_seconds_sum"
    ]


def test_a_scrape_reads_only_the_maintenance_exits_audited_since_the_last(
    api: Api, admin: httpx.Client
) -> None:
    """Every scrape used to self-join the whole audit log. Now the first scrape of a
    process reads it once; later ones only the exits after the seq they read up to, and
    none at all while nothing was audited; the counts stay cumulative, never counted twice."""
    resources = Resources.from_settings(api.settings)
    pair_queries: list[dict[str, object]] = []

    def seen(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().startswith("SELECT") and " JOIN audit_events " in statement:
            assert isinstance(params, dict)
            pair_queries.append(dict(params))

    event.listen(resources.engine, "before_cursor_execute", seen)
    try:
        collector = CampaignCollector(resources.engine)
        count, total = _histogram(collector)  # the whole history, once
        head = _audit_head(resources)
        pair_queries.clear()
        assert _histogram(collector) == (count, total)  # nothing new: no pair query
        assert pair_queries == []
        tag = _server(admin)  # audited, but not a maintenance exit
        with Session(resources.engine) as session:
            campaign_id = _campaign(session, tag, "running")
        entered = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
        target = f"campaign:{campaign_id}/host:{tag}"
        for action, at in ((MAINTENANCE_ENTER, entered), (MAINTENANCE_EXIT, entered)):
            append(resources.engine, AuditRecord(ACTOR, action, target, "success"), at=at)
        append(
            resources.engine,
            AuditRecord(ACTOR, MAINTENANCE_EXIT, target, "success"),
            at=entered + timedelta(minutes=25),
        )  # a retried exit: a second pair, as the full self-join counted it
        after = _audit_head(resources)
        assert _histogram(collector) == (count + 2, total + 25 * 60)
        assert len(pair_queries) == 1
        bounds = {v for v in pair_queries[0].values() if isinstance(v, int)}
        assert {head, after} <= bounds  # (head, after]: only what was audited since
        assert _histogram(collector) == (count + 2, total + 25 * 60)  # not counted twice
    finally:
        event.remove(resources.engine, "before_cursor_execute", seen)
        resources.engine.dispose()


def _audit_head(resources: Resources) -> int:
    with Session(resources.engine) as session:
        return session.exec(select(func.max(AuditEvent.seq))).one() or 0


def test_the_exit_entry_pairing_uses_the_action_target_index(api: Api) -> None:
    """Migration 0016's index (action, target): each exit finds its entry through it."""
    resources = Resources.from_settings(api.settings)
    try:
        with resources.engine.connect() as connection:
            indexes = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_events'")
            ).scalars()
            assert any("(action, target)" in definition for definition in indexes)
    finally:
        resources.engine.dispose()


def test_every_wait_category_is_served(api: Api) -> None:
    """Zero included (no campaign runs here): a series that vanishes reads as no data."""
    scraped = _scrape(api)
    for category in WaitCategory:
        assert scraped[f'idrac_orch_rollouts_waiting{{reason="{category}"}}'] == 0


def test_dashboard_charts_only_metrics_the_api_serves(api: Api, admin: httpx.Client) -> None:
    assert admin.get("/servers").status_code == 200  # at least one request counted
    served = {key.split("{")[0] for key in _scrape(api)}
    charted = set(re.findall(r"\b(idrac_orch_[a-z_]+)", DASHBOARD.read_text()))
    assert charted and charted <= served, charted - served
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert all(t["expr"] for p in panels for t in p.get("targets", []))
