"""Campaign metrics for Prometheus, read from the store at scrape time.

The store is where every outcome lands (written by the workers' activities), so the API
can answer for the whole fleet whichever worker did the work, and a restarted API loses
no count. A few small aggregate queries per scrape; time in maintenance mode comes from the
audit trail, where the runbook records each entry and exit once per host and campaign.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, Engine, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from activities.audit_trail import MAINTENANCE_ENTER, MAINTENANCE_EXIT
from store.models import AuditEvent, Campaign, HostUpdate

HELD = "held"
# Maintenance windows are planned in hours: 5 minutes to 6 hours.
MAINTENANCE_BUCKETS_S = (300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600)


class CampaignCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            campaigns = session.exec(
                select(Campaign.status, func.count()).group_by(col(Campaign.status))
            ).all()
            outcomes = session.exec(
                select(HostUpdate.status, func.count()).group_by(col(HostUpdate.status))
            ).all()
            finished = col(HostUpdate.finished_at).is_not(None)
            duration = func.extract("epoch", HostUpdate.finished_at - HostUpdate.started_at)
            count, seconds = session.exec(
                select(func.count(), func.coalesce(func.sum(duration), 0.0)).where(
                    finished, col(HostUpdate.started_at).is_not(None)
                )
            ).one()
            held = session.exec(select(func.count()).where(_latest_is_held())).one()
            in_maintenance = _maintenance_seconds(session)
        by_status = GaugeMetricFamily(
            "idrac_orch_campaigns", "Campaigns by their own status.", labels=["status"]
        )
        for status, n in campaigns:
            by_status.add_metric([status], n)
        yield by_status
        hosts = CounterMetricFamily(
            "idrac_orch_host_updates",
            "Host runbooks finished, by outcome (updated, compliant, failed, held, ...).",
            labels=["status"],
        )
        for status, n in outcomes:
            hosts.add_metric([status], n)
        yield hosts
        yield SummaryMetricFamily(
            "idrac_orch_host_update_duration_seconds",
            "Time from a host's first runbook step to its end (maintenance mode included).",
            count_value=count,
            sum_value=float(seconds),
        )
        yield GaugeMetricFamily(
            "idrac_orch_hosts_held",
            "Hosts whose latest runbook left them held in maintenance for a human.",
            value=held,
        )
        yield _histogram(
            "idrac_orch_host_maintenance_seconds",
            "Time hosts spent in vCenter maintenance mode during a campaign, entry to exit "
            "(from the audit trail; hosts still in maintenance are not counted yet).",
            in_maintenance,
            MAINTENANCE_BUCKETS_S,
        )


def _maintenance_seconds(session: Session) -> list[float]:
    """Per host and campaign, exit minus entry of maintenance mode, as audited."""
    enter, leave = aliased(AuditEvent), aliased(AuditEvent)
    pairs = session.exec(
        select(enter.occurred_at, leave.occurred_at)
        .join(leave, (leave.target == enter.target) & (leave.action == MAINTENANCE_EXIT))
        .where(enter.action == MAINTENANCE_ENTER, col(enter.target).startswith("campaign:"))
    ).all()
    return [(left - entered).total_seconds() for entered, left in pairs]


def _histogram(
    name: str, documentation: str, values: list[float], bounds: tuple[int, ...]
) -> HistogramMetricFamily:
    buckets = [(str(float(b)), sum(1 for v in values if v <= b)) for b in bounds]
    return HistogramMetricFamily(
        name,
        documentation,
        buckets=[*buckets, ("+Inf", len(values))],
        sum_value=sum(values),
    )


def _latest_is_held() -> ColumnElement[bool]:
    """Each server's most recent host update is a hold (a later campaign may have fixed it)."""
    latest = (
        select(HostUpdate.server_id, func.max(HostUpdate.id).label("id"))
        .group_by(col(HostUpdate.server_id))
        .subquery()
    )
    return col(HostUpdate.id).in_(select(latest.c.id)) & (col(HostUpdate.status) == HELD)
