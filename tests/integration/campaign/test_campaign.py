"""A campaign end to end on real parts: Temporal dev server, our workers and activities,
vcsim, the iDRAC simulator over HTTPS, and the PostgreSQL inventory."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.campaign_spec import AbortRequest, CampaignSpec
from domain.runbook import (
    CampaignResult,
    CampaignState,
    ClusterStatus,
    ComponentStatus,
    HostStatus,
    HostStep,
)
from store.models import AuditEvent, HostUpdate
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from workers.main import running_workers
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow

POLICY = {
    "max_concurrent_per_cluster": 2,
    "min_hosts_online": 2,
    "global_max_concurrent": 3,
    "cluster_failure_threshold": 1,
    "campaign_failure_threshold": 2,
    "on_failure": "rollback",
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}


@pytest_asyncio.fixture(scope="module")
async def workers(temporal_env: WorkflowEnvironment, lab: Lab) -> AsyncIterator[None]:
    async with running_workers(temporal_env.client, lab.resources):
        yield


class MaintenanceSampler:
    """Reads vCenter's maintenance state throughout a campaign, the way an auditor would."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.peak: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for cluster, hosts in self.lab.hosts_in_maintenance().items():
                self.peak[cluster] = max(self.peak.get(cluster, 0), len(hosts))
            self.samples += 1
            time.sleep(0.05)

    def __enter__(self) -> MaintenanceSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _spec(
    lab: Lab,
    clusters: list[str],
    version: str,
    windows: list[dict[str, str]] | None = None,
    **policy: object,
) -> CampaignSpec:
    return lab.bios_spec(
        {"clusters": clusters}, version, windows=windows, policy={**POLICY, **policy}
    )


async def _start(env: WorkflowEnvironment, lab: Lab, spec: CampaignSpec) -> WorkflowHandle:
    return await lab.start_campaign(env.client, spec, "test", timedelta(minutes=5))


async def _run_campaign(
    env: WorkflowEnvironment, lab: Lab, clusters: list[str], **policy: object
) -> CampaignResult:
    handle = await _start(env, lab, _spec(lab, clusters, BIOS_TARGET, **policy))
    return await handle.result()


async def _found(env: WorkflowEnvironment, query: str) -> set[str]:
    """What an operator filtering the Temporal Web UI with this query would see."""
    return {execution.id async for execution in env.client.list_workflows(query)}


async def _scheduled_together(env: WorkflowEnvironment, workflow_id: str) -> list[set[str]]:
    """A workflow's activities, grouped by the workflow task that scheduled them."""
    groups: dict[int, set[str]] = {}
    async for event in env.client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            groups.setdefault(scheduled.workflow_task_completed_event_id, set()).add(
                scheduled.activity_type.name
            )
    return list(groups.values())


@pytest.mark.usefixtures("workers")
async def test_rolling_campaign_updates_every_host_once_within_capacity(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    failing = "BLAB002"
    alpha = [h.service_tag for _, c, h in lab.fleet.hosts() if c.name == "alpha"]
    bios_before = {tag: lab.idrac_state(tag)["firmware"]["bios"] for tag in alpha}
    lab.set_faults(failing, job_fails="RED007")
    try:
        with MaintenanceSampler(lab) as sampler:
            result = await _run_campaign(temporal_env, lab, ["alpha", "bravo"])
    finally:
        lab.set_faults(failing, job_fails=None)

    outcomes = {o.service_tag: o for c in result.clusters for o in c.outcomes}
    for tag in alpha:
        assert outcomes[tag].status is HostStatus.UPDATED, outcomes[tag]
        state = lab.idrac_state(tag)
        assert state["firmware"]["bios"] == BIOS_TARGET
        assert state["update_jobs"] == 1  # flashed exactly once
    # bravo: the failing host's job changed nothing: a failure, not a rollback, back in
    # service; it stops its cluster (threshold 1).
    assert outcomes[failing].status is HostStatus.FAILED
    assert "RED007" in outcomes[failing].reason
    assert lab.idrac_state(failing)["firmware"]["bios"] != BIOS_TARGET
    bravo = next(c for c in result.clusters if c.cluster == "bravo")
    assert bravo.stopped_reason and "cluster threshold" in bravo.stopped_reason
    assert result.state is CampaignState.FINISHED_WITH_FAILURES

    # Capacity: never more hosts of a cluster in maintenance than the policy allows,
    # and nobody left in maintenance at the end.
    assert sampler.samples > 10
    assert sampler.peak.get("alpha", 0) <= 2 and sampler.peak.get("bravo", 0) <= 1
    assert sampler.peak.get("alpha", 0) >= 1  # the sampler did see the rollout
    assert lab.hosts_in_maintenance() == {}

    with Session(lab.resources.engine) as session:
        rows = session.exec(select(HostUpdate)).all()
    assert {r.server_id for r in rows} >= {lab.server_ids[t] for t in alpha}

    # The Web UI can filter the whole campaign tree by its search attributes.
    campaign = f"campaign-{result.campaign_id}"
    tree = await _found(temporal_env, f"CampaignId = '{result.campaign_id}'")
    assert campaign in tree and f"{campaign}-cluster-alpha" in tree
    assert {f"{campaign}-host-{tag}" for tag in alpha} <= tree
    assert campaign in await _found(temporal_env, "CampaignStatus = 'finished_with_failures'")
    # Earlier test modules' campaigns (their own databases, the same numbers) ran this host
    # too: of this campaign's workflows, the filter finds the failing host's runbook alone.
    tagged = await _found(temporal_env, f"ServiceTag = '{failing}'")
    assert {w for w in tagged if w.startswith(f"{campaign}-")} == {f"{campaign}-host-{failing}"}

    # Staging overlaps the evacuation, and the read-only checks after the reboot overlap
    # each other: a host spends less time in maintenance than a step-by-step runbook.
    steps = await _scheduled_together(temporal_env, f"{campaign}-host-{alpha[0]}")
    assert {"enter_maintenance", "stage_firmware"} in steps
    assert {"verify_firmware", "wait_host_reconnected", "idrac_health"} in steps

    # The audit trail: per updated host exactly one maintenance entry, flash, exit and
    # outcome; the failed host its way in and out and its outcome, no rollback (nothing was
    # reverted); the chain still verifies.
    audited = lab.audited_host_actions(result.campaign_id)
    flashed = {
        "host.maintenance.enter",
        "host.firmware.flash",
        "host.maintenance.exit",
        "host.outcome",
    }
    for tag in alpha:
        assert sorted(e.action for e in audited[tag]) == sorted(flashed)
        (flash,) = (e for e in audited[tag] if e.action == "host.firmware.flash")
        assert flash.detail == f"159 {bios_before[tag]} -> {BIOS_TARGET}"
        (said,) = (e for e in audited[tag] if e.action == "host.outcome")
        assert (said.outcome, said.detail) == (
            "updated",
            f"updated: 159 {bios_before[tag]} -> {BIOS_TARGET} updated",
        )
    failed = flashed - {"host.firmware.flash"}
    assert sorted(e.action for e in audited[failing]) == sorted(failed)
    assert all(e.actor == "orchestrator" for entries in audited.values() for e in entries)
    assert lab.audit_chain_ok()


@pytest.mark.usefixtures("workers")
async def test_hosts_already_at_target_are_skipped_untouched(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    alpha = [h.service_tag for _, c, h in lab.fleet.hosts() if c.name == "alpha"]
    jobs_before = {tag: lab.idrac_state(tag)["update_jobs"] for tag in alpha}
    result = await _run_campaign(temporal_env, lab, ["alpha"])
    assert result.state is CampaignState.COMPLETED
    (cluster,) = result.clusters
    assert {o.service_tag: o.status for o in cluster.outcomes} == {
        tag: HostStatus.COMPLIANT for tag in alpha
    }
    assert {tag: lab.idrac_state(tag)["update_jobs"] for tag in alpha} == jobs_before


@pytest.mark.usefixtures("workers")
async def test_hold_policy_keeps_a_failed_host_in_maintenance_and_alerts(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    failing = "BLAB003"
    lab.set_faults(failing, version_unchanged=True)
    try:
        result = await _run_campaign(temporal_env, lab, ["bravo"], on_failure="hold")
    finally:
        lab.set_faults(failing, version_unchanged=False)
    held = next(o for c in result.clusters for o in c.outcomes if o.service_tag == failing)
    assert held.status is HostStatus.HELD
    assert "inventory does not show 159" in held.reason
    assert lab.hosts_in_maintenance() == {"bravo": {"esx-bravo-3.lab.test"}}
    with Session(lab.resources.engine) as session:
        alerts = session.exec(select(AuditEvent).where(AuditEvent.action == "host.alert")).all()
    assert any(failing in a.target for a in alerts)


async def _running_hosts(rollout: WorkflowHandle[Any, Any]) -> dict[str, str]:
    try:
        return (await rollout.query(ClusterRolloutWorkflow.status)).running
    except RPCError:  # not started yet
        return {}


@pytest.mark.usefixtures("workers")
async def test_abort_is_validated_and_lets_the_running_host_finish(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    spec = _spec(lab, ["alpha"], "2.12.0", max_concurrent_per_cluster=1, global_max_concurrent=1)
    handle = await _start(temporal_env, lab, spec)
    # Running means the host's runbook started (a granted slot alone is not yet a host).
    rollout = temporal_env.client.get_workflow_handle(f"{handle.id}-cluster-alpha")
    deadline = time.monotonic() + 60
    while not await _running_hosts(rollout):
        assert time.monotonic() < deadline, "no host started"
        await asyncio.sleep(0.05)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(CampaignWorkflow.abort, AbortRequest(reason="  "))
    assert "reason: must not be blank" in str(refused.value.cause)
    accepted = await handle.execute_update(
        CampaignWorkflow.abort, AbortRequest(reason="vendor recalled 2.12.0")
    )
    assert accepted.startswith("accepted")

    result = await handle.result()
    assert result.state is CampaignState.ABORTED
    assert result.stop_reason == "aborted by an operator: vendor recalled 2.12.0"
    (alpha,) = result.clusters
    assert [o.status for o in alpha.outcomes] == [HostStatus.UPDATED]  # finished, not cut
    assert len(alpha.not_started) == 3
    assert "alpha" not in lab.hosts_in_maintenance()


@pytest.mark.usefixtures("workers")
async def test_a_spec_whose_package_does_not_match_fails_before_any_host(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    spec = lab.bios_spec({"clusters": ["alpha"]}, "9.9.9", package_version="2.12.0")
    handle = await _start(temporal_env, lab, spec)
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "firmware[0]: package" in str(failed.value.cause.cause)
    assert "not 159 9.9.9" in str(failed.value.cause.cause)


async def _cluster_status(
    env: WorkflowEnvironment, campaign_id: int, cluster: str
) -> ClusterStatus:
    handle = env.client.get_workflow_handle_for(
        ClusterRolloutWorkflow.run, f"campaign-{campaign_id}-cluster-{cluster}"
    )
    return await handle.query(ClusterRolloutWorkflow.status)


async def _eventually(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 60
    while not await probe():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@pytest.mark.usefixtures("workers")
async def test_a_window_that_opens_later_holds_every_host_until_it_opens(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    opens = datetime.now(UTC) + timedelta(seconds=8)  # room for a loaded CI machine
    window = {
        "kind": "once",
        "timezone": "Europe/Amsterdam",
        "starts_at": opens.isoformat(),
        "ends_at": (opens + timedelta(hours=2)).isoformat(),
    }
    spec = _spec(lab, ["alpha"], "2.12.0", windows=[window])
    handle = await _start(temporal_env, lab, spec)
    campaign_id = int(handle.id.rsplit("-", 1)[1])

    async def waiting_for_window() -> bool:
        try:
            status = await _cluster_status(temporal_env, campaign_id, "alpha")
        except RPCError:
            return False  # the cluster rollout has not started yet
        return "outside window; next opens" in (status.waiting_reason or "")

    await _eventually(waiting_for_window, "cluster never said it waits for the window")
    assert datetime.now(UTC) < opens  # nothing may have started yet
    assert (await handle.query(CampaignWorkflow.status)).hosts_in_flight == []
    result = await handle.result()
    assert result.state is CampaignState.COMPLETED
    first_start = min(o.started_at for c in result.clusters for o in c.outcomes)
    assert first_start >= opens


@pytest.mark.usefixtures("workers")
async def test_pause_stops_new_hosts_and_resume_finishes_the_campaign(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    spec = _spec(lab, ["alpha"], "2.13.0", max_concurrent_per_cluster=1, global_max_concurrent=1)
    handle = await _start(temporal_env, lab, spec)
    await handle.signal(CampaignWorkflow.pause)
    campaign_id = int(handle.id.rsplit("-", 1)[1])

    async def paused() -> bool:
        try:
            status = await _cluster_status(temporal_env, campaign_id, "alpha")
        except RPCError:
            return False
        return status.state == "paused" and status.waiting_reason == "paused by an operator"

    await _eventually(paused, "cluster never reported paused")
    assert (await handle.query(CampaignWorkflow.status)).state is CampaignState.PAUSED
    before = await _cluster_status(temporal_env, campaign_id, "alpha")
    await asyncio.sleep(1.0)
    after = await _cluster_status(temporal_env, campaign_id, "alpha")
    assert len(after.outcomes) + len(after.running) <= len(before.outcomes) + len(before.running)
    assert after.pending  # hosts are still waiting: pause held them

    await handle.signal(CampaignWorkflow.resume)
    result = await handle.result()
    assert result.state is CampaignState.COMPLETED
    assert all(o.status is HostStatus.UPDATED for c in result.clusters for o in c.outcomes)


@pytest.mark.usefixtures("workers")
async def test_campaign_failure_threshold_halts_the_campaign(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    failing = ["ALAB001", "ALAB002"]
    for tag in failing:
        lab.set_faults(tag, job_fails="SUP0518")
    try:
        result = await _run_campaign(
            temporal_env,
            lab,
            ["alpha"],
            max_concurrent_per_cluster=1,
            global_max_concurrent=1,
            cluster_failure_threshold=2,
            campaign_failure_threshold=2,
        )
    finally:
        for tag in failing:
            lab.set_faults(tag, job_fails=None)
    assert result.state is CampaignState.HALTED
    assert result.stop_reason == "2 failed host(s) reached the campaign threshold of 2"
    (alpha,) = result.clusters
    assert [o.service_tag for o in alpha.outcomes] == failing
    assert alpha.not_started == ["ALAB003", "ALAB004"]
    assert "alpha" not in lab.hosts_in_maintenance()


@pytest.mark.usefixtures("workers")
async def test_a_host_unhealthy_after_its_update_never_leaves_maintenance(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    """Health is checked before exit: a host that came back Critical gets no VMs back."""
    hosts = ["ALAB001", "ALAB002"]
    failing = "ALAB002"
    assert all(lab.idrac_state(tag)["firmware"]["bios"] != "2.11.2" for tag in hosts)
    spec = lab.bios_spec(
        {"service_tags": hosts}, "2.11.2", policy={**POLICY, "max_concurrent_per_cluster": 1}
    )
    lab.set_faults(failing, critical_after_boot=True)
    try:
        result = await (await _start(temporal_env, lab, spec)).result()
    finally:
        lab.set_faults(failing, critical_after_boot=False)
    outcomes = {o.service_tag: o for c in result.clusters for o in c.outcomes}
    assert outcomes["ALAB001"].status is HostStatus.UPDATED
    held = outcomes[failing]
    assert (held.status, held.failed_step) == (HostStatus.HELD, HostStep.POST_HEALTH)
    assert "health Critical" in held.reason
    # Policy rollback: the previous BIOS went back first; still Critical, the host is held.
    ((component),) = held.components
    assert component.status is ComponentStatus.REVERTED
    assert component.after == component.before != "2.11.2"
    assert lab.idrac_state(failing)["firmware"]["bios"] == component.before
    # (bravo-3 is still held by the hold-policy test above)
    assert lab.hosts_in_maintenance()["alpha"] == {"esx-alpha-2.lab.test"}
