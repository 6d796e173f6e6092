"""plan_campaign: turn a campaign spec into per-cluster rollouts from the inventory store.

The spec names clusters, ESXi hosts and service tags; the store knows which iDRAC, vCenter
and cluster each is, and which uploaded package holds each target version. Whatever the
spec names that the store does not know is reported, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating_thread
from activities.names import Store
from activities.resources import Resources
from domain.campaign_spec import CampaignSpec, CampaignStartInput, FirmwareTarget
from domain.components import FACTS, RebootType, classify
from domain.estimates import estimate_host, history_key
from domain.runbook import CampaignPlan, ClusterRollout, ComponentTarget, HostJob, HostRef
from domain.site_windows import no_window_applies, windows_for
from store.models import Campaign, Cluster, Datacenter, FirmwarePackage, HostUpdate, Server
from store.validation import held_out


@dataclass(frozen=True)
class _Row:
    server: Server
    cluster: Cluster
    datacenter: str
    site_timezone: str | None  # the datacenter's IANA zone: "site" windows are read in it


def _package_problem(package: FirmwarePackage | None, wanted: FirmwareTarget) -> str | None:
    """Why the spec's package cannot be used, or None."""
    if package is None:
        return f"package {wanted.package_id} does not exist"
    if (package.component_id, package.version) != (wanted.component_id, wanted.version):
        return (
            f"package {package.id} is component {package.component_id} version "
            f"{package.version}, not {wanted.component_id} {wanted.version}"
        )
    if package.file_name is None:
        return f"package {package.id} has no uploaded file yet"
    return None


def past_durations(session: Session) -> dict[str, list[timedelta]]:
    """How long earlier successful host updates took, by server model and component set."""
    query = (
        select(HostUpdate, Server, Campaign)
        .join(Server, HostUpdate.server_id == Server.id)  # type: ignore[arg-type]
        .join(Campaign, HostUpdate.campaign_id == Campaign.id)  # type: ignore[arg-type]
        .where(HostUpdate.status == "updated")
    )
    history: dict[str, list[timedelta]] = {}
    for update, server, campaign in session.exec(query).all():
        if update.started_at is None or update.finished_at is None:
            continue
        components = [item["component_id"] for item in campaign.spec.get("firmware", [])]
        key = history_key(server.model or "", components)
        history.setdefault(key, []).append(update.finished_at - update.started_at)
    return history


class CampaignPlanActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Store.PLAN_CAMPAIGN)
    def plan_campaign(self, start: CampaignStartInput) -> CampaignPlan:
        spec = start.spec
        heartbeat = self.resources.settings.activity_heartbeat_timeout_s
        with heartbeating_thread(), Session(self.resources.engine) as session:
            targets = self._targets(session, spec)
            rows, unresolved = self._hosts(session, spec)
            history = past_durations(session)
        by_cluster: dict[tuple[int, str], list[_Row]] = {}
        for row in rows:
            by_cluster.setdefault((row.cluster.vcenter_id, row.cluster.name), []).append(row)
        rollouts = []
        for (vcenter_id, cluster_name), members in sorted(by_cluster.items()):
            site = members[0]
            windows = windows_for(
                spec.windows,
                datacenter=site.datacenter,
                site_timezone=site.site_timezone,
                cluster=cluster_name,
            )
            if spec.windows and not windows:  # never "any time" by omission
                unresolved.append(no_window_applies(site.datacenter, cluster_name))
                continue
            rollouts.append(
                ClusterRollout(
                    campaign_id=start.campaign_id,
                    cluster=cluster_name,
                    datacenter=site.datacenter,
                    vcenter_id=vcenter_id,
                    hosts=[self._job(start, row, targets, heartbeat, history) for row in members],
                    windows=windows,
                    policy=spec.policy,
                )
            )
        return CampaignPlan(clusters=rollouts, unresolved=unresolved)

    def _targets(self, session: Session, spec: CampaignSpec) -> list[ComponentTarget]:
        base = self.resources.settings.effective_package_repository_url
        targets = []
        for index, wanted in enumerate(spec.firmware):
            package = session.get(FirmwarePackage, wanted.package_id)
            problem = _package_problem(package, wanted)
            if problem is not None or package is None:
                raise ApplicationError(
                    f"firmware[{index}]: {problem}", type="InvalidPlan", non_retryable=True
                )
            kind = classify(package.component_id, package.name)
            targets.append(
                ComponentTarget(
                    component_id=package.component_id,
                    version=package.version,
                    image_uri=f"{base}/repository/{package.sha256}/{package.file_name}",
                    needs_host_reboot=FACTS[kind].reboot is RebootType.HOST,
                )
            )
        return targets

    def _hosts(self, session: Session, spec: CampaignSpec) -> tuple[list[_Row], list[str]]:
        query = (
            select(Server, Cluster, Datacenter)
            .join(Cluster, Server.cluster_id == Cluster.id)  # type: ignore[arg-type]
            .join(Datacenter, Server.datacenter_id == Datacenter.id, isouter=True)  # type: ignore[arg-type]
        )
        rows = [
            _Row(
                server,
                cluster,
                datacenter.name if datacenter else "",
                datacenter.timezone if datacenter else None,
            )
            for server, cluster, datacenter in session.exec(query).all()
        ]
        wanted = spec.targets
        chosen = [
            row
            for row in rows
            if row.cluster.name in wanted.clusters
            or row.server.esxi_host in wanted.hosts
            or row.server.service_tag in wanted.service_tags
        ]
        known_clusters = {row.cluster.name for row in rows}
        known_hosts = {row.server.esxi_host for row in rows}
        known_tags = {row.server.service_tag for row in rows}
        unresolved = (
            [
                f"cluster {c}: no servers in a cluster of that name"
                for c in wanted.clusters
                if c not in known_clusters
            ]
            + [
                f"host {h}: no server with that ESXi host name in a cluster"
                for h in wanted.hosts
                if h not in known_hosts
            ]
            + [
                f"service tag {t}: no server with that tag in a cluster"
                for t in wanted.service_tags
                if t not in known_tags
            ]
        )
        # Onboarding gate: a server whose latest validation failed stays out, with why.
        held = held_out(session)
        unresolved += [
            f"service tag {r.server.service_tag}: {held[r.server.id]}"
            for r in chosen
            if r.server.id in held
        ]
        chosen = [row for row in chosen if row.server.id not in held]
        chosen.sort(key=lambda row: (row.server.esxi_host or "", row.server.service_tag))
        return chosen, unresolved

    @staticmethod
    def _job(
        start: CampaignStartInput,
        row: _Row,
        targets: list[ComponentTarget],
        heartbeat_timeout_s: int,
        history: dict[str, list[timedelta]],
    ) -> HostJob:
        server = row.server
        key = history_key(server.model or "", [t.component_id for t in targets])
        kinds = [classify(t.component_id) for t in targets]
        estimate = estimate_host(kinds, vm_count=0, history=history.get(key, ()))
        return HostJob(
            campaign_id=start.campaign_id,
            host=HostRef(
                name=server.esxi_host or server.service_tag,
                service_tag=server.service_tag,
                idrac_address=server.idrac_address,
                cluster=row.cluster.name,
                datacenter=row.datacenter,
                vcenter_id=row.cluster.vcenter_id,
                server_id=server.id,
            ),
            targets=targets,
            policy=start.spec.policy,
            estimated_duration_s=max(1, int(estimate.total / timedelta(seconds=1))),
            heartbeat_timeout_s=heartbeat_timeout_s,
        )

    def all(self) -> list[object]:
        return [self.plan_campaign]
