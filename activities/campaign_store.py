"""Store activities of a campaign: per-host results and alerts (on the campaigns queue).

Both are idempotent: a retried write finds its row (or an identical audit entry) and stops.
"""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio import activity

from activities.audit_trail import audit
from activities.names import Store
from activities.resources import Resources
from domain.runbook import HostOutcome
from store.models import HostUpdate, Server

HOST_ALERT = "host.alert"
HOST_OUTCOME = "host.outcome"
CLUSTER_ALERT = "cluster.alert"
HOST_REQUEUED = "host.requeued"


class CampaignStoreActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Store.RECORD_HOST_OUTCOME)
    def record_host_outcome(self, campaign_id: int, cluster: str, outcome: HostOutcome) -> None:
        with Session(self.resources.engine) as session:
            server = session.exec(
                select(Server).where(Server.service_tag == outcome.service_tag)
            ).one()
            row = session.exec(
                select(HostUpdate).where(
                    HostUpdate.campaign_id == campaign_id, HostUpdate.server_id == server.id
                )
            ).first() or HostUpdate(campaign_id=campaign_id, server_id=server.id or 0)
            row.status = outcome.status.value
            row.step = outcome.failed_step.value if outcome.failed_step else None
            row.detail = f"{cluster}: {outcome.reason}"[:2000] if outcome.reason else cluster
            row.started_at, row.finished_at = outcome.started_at, outcome.finished_at
            row.components = [c.model_dump(mode="json") for c in outcome.components] or None
            session.add(row)
            session.commit()
        # The trail says what the API says: one entry per host and campaign.
        audit(
            self.resources,
            HOST_OUTCOME,
            f"campaign:{campaign_id}/host:{outcome.service_tag}",
            outcome.status.value,
            outcome.describe(),
        )

    @activity.defn(name=Store.RAISE_ALERT)
    def raise_alert(self, campaign_id: int, service_tag: str, message: str) -> None:
        """An audited alert naming the host and why it needs a human."""
        self._alert(HOST_ALERT, f"campaign:{campaign_id}/host:{service_tag}", "held", message)

    @activity.defn(name=Store.RECORD_REQUEUE)
    def record_requeue(self, campaign_id: int, service_tag: str, reason: str) -> None:
        """A host refused maintenance mid-flight is back in its cluster's queue: audited,
        no alert (nobody needs to act, and it is not failed)."""
        target = f"campaign:{campaign_id}/host:{service_tag}"
        audit(self.resources, HOST_REQUEUED, target, "requeued", reason)

    @activity.defn(name=Store.RAISE_CLUSTER_ALERT)
    def raise_cluster_alert(self, campaign_id: int, cluster: str, message: str) -> None:
        """An audited alert naming a cluster rollout that cannot make progress by itself."""
        self._alert(CLUSTER_ALERT, f"campaign:{campaign_id}/cluster:{cluster}", "stuck", message)

    def _alert(self, action: str, target: str, outcome: str, message: str) -> None:
        audit(self.resources, action, target, outcome, message)
        activity.logger.warning("alert raised", extra={"target": target, "outcome": outcome})

    def all(self) -> list[object]:
        return [
            self.record_host_outcome,
            self.raise_alert,
            self.record_requeue,
            self.raise_cluster_alert,
        ]
