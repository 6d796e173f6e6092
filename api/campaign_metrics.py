"""Campaign metrics for Prometheus, read from the store at scrape time.

The store is where every outcome lands (written by the workers' activities), so the API
can answer for the whole fleet whichever worker did the work, and a restarted API loses
no count. A few small aggregate queries per scrape; time in maintenance mode comes from the
audit trail, where the runbook records each entry and exit once per host and campaign.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

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


@dataclass
class _Maintenance:
    """The maintenance histogram so far, and the audit seq it has read up to: each scrape
    reads only the exits written since (the audit log only grows, and seq orders it)."""

    upto_seq: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * len(MAINTENANCE_BUCKETS_S))
    count: int = 0
    total_s: float = 0.0

    def add(self, seconds: float) -> None:
        for index, bound in enumerate(MAINTENANCE_BUCKETS_S):
            if seconds <= bound:
                self.buckets[index] += 1
        self.count += 1
        self.total_s += seconds


class CampaignCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._maintenance = _Maintenance()
        self._maintenance_lock = threading.Lock()  # scrapes may overlap

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
            in_maintenance = self._maintenance_so_far(session)
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
        buckets = [
            (str(float(b)), n)
            for b, n in zip(MAINTENANCE_BUCKETS_S, in_maintenance.buckets, strict=True)
        ]
        yield HistogramMetricFamily(
            "idrac_orch_host_maintenance_seconds",
            "Time hosts spent in vCenter maintenance mode during a campaign, entry to exit "
            "(from the audit trail; hosts still in maintenance are not counted yet).",
            buckets=[*buckets, ("+Inf", in_maintenance.count)],
            sum_value=in_maintenance.total_s,
        )

    def _maintenance_so_far(self, session: Session) -> _Maintenance:
        """The histogram with the exits audited since the last scrape added. Each scrape
        reads the exits after the last seq it saw, up to the head it read first, each
        joined to its entry through the (action, target) index: the first scrape of a
        process reads the whole history once, later ones only what is new (it used to
        self-join the whole audit log on every scrape)."""
        with self._maintenance_lock:
            now = self._maintenance
            head = session.exec(select(func.max(AuditEvent.seq))).one() or 0
            if head > now.upto_seq:
                for seconds in _maintenance_seconds(session, now.upto_seq, head):
                    now.add(seconds)
                now.upto_seq = head
            return _Maintenance(now.upto_seq, list(now.buckets), now.count, now.total_s)


def _maintenance_seconds(session: Session, after_seq: int, upto_seq: int) -> list[float]:
    """Exit minus entry of maintenance mode, as audited, per host and campaign whose exit
    has a seq in (after_seq, upto_seq]: the entry was audited before it."""
    enter, leave = aliased(AuditEvent), aliased(AuditEvent)
    pairs = session.exec(
        select(enter.occurred_at, leave.occurred_at)
        .join(enter, (enter.action == MAINTENANCE_ENTER) & (enter.target == leave.target))
        .where(
            leave.action == MAINTENANCE_EXIT,
            col(leave.seq) > after_seq,
            col(leave.seq) <= upto_seq,
            col(leave.target).startswith("campaign:"),
        )
    ).all()
    return [(left - entered).total_seconds() for entered, left in pairs]


def _latest_is_held() -> ColumnElement[bool]:
    """Each server's most recent host update is a hold (a later campaign may have fixed it)."""
    latest = (
        select(HostUpdate.server_id, func.max(HostUpdate.id).label("id"))
        .group_by(col(HostUpdate.server_id))
        .subquery()
    )
    return col(HostUpdate.id).in_(select(latest.c.id)) & (col(HostUpdate.status) == HELD)
