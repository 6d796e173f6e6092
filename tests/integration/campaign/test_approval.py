"""Change approval on real parts: a campaign whose policy needs approval waits after
planning with every host untouched, until distinct approvers (never its creator) approve,
one rejects, or the approval expires."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.campaign_spec import AbortRequest, ApprovalDecision
from domain.runbook import CampaignState, CampaignStatus
from store.notifications import NotificationEventRow
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from tests.integration.campaign.test_campaign import workers  # noqa: F401 (fixture)
from workflows.campaign import CampaignWorkflow

CREATOR = "carol"


async def _start(
    env: WorkflowEnvironment, lab: Lab, cluster: str, approvals: int, hours: float = 1
) -> WorkflowHandle:
    spec = lab.bios_spec(
        {"clusters": [cluster]},
        BIOS_TARGET,
        policy={
            "min_hosts_online": 2,
            "approval": {"required_approvals": approvals, "expires_after_hours": hours},
        },
    )
    return await lab.start_campaign(
        env.client, spec, "approval", timedelta(minutes=5), created_by=CREATOR
    )


async def _awaiting(handle: WorkflowHandle) -> CampaignStatus:
    deadline = time.monotonic() + 60
    while (status := await handle.query(CampaignWorkflow.status)).state is not (
        CampaignState.AWAITING_APPROVAL
    ):
        assert time.monotonic() < deadline, f"never waited for approval: {status.state}"
        await asyncio.sleep(0.1)
    return status


async def _refused(handle: WorkflowHandle, update: object, who: str, reason: str = "") -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, ApprovalDecision(approver=who, reason=reason))
    return str(refused.value.cause)


def _untouched(lab: Lab, cluster: str) -> dict[str, tuple[str, int, bool]]:
    """A cluster's hosts as the simulators see them: BIOS, flashes, in maintenance."""
    tags = {host.service_tag for _, c, host in lab.fleet.hosts() if c.name == cluster}
    return {
        tag: (truth.bios, truth.bios_flashes, truth.in_maintenance)
        for tag, truth in lab.truth().items()
        if tag in tags
    }


def _events(lab: Lab, campaign_id: int) -> list[tuple[str, str]]:
    """The campaign's notification events as recorded: (kind, detail), in order."""
    with Session(lab.resources.engine) as session:
        rows = session.exec(
            select(NotificationEventRow)
            .where(NotificationEventRow.campaign_id == campaign_id)
            .order_by(col(NotificationEventRow.id))
        ).all()
        return [(row.kind, row.detail) for row in rows]


@pytest.mark.usefixtures("workers")
async def test_two_distinct_approvers_other_than_the_creator_start_the_campaign(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = _untouched(lab, "alpha")
    handle = await _start(temporal_env, lab, "alpha", approvals=2)
    status = await _awaiting(handle)
    assert status.waiting_reason == "waiting for approval (0 of 2)"

    assert "creator cannot approve" in await _refused(handle, CampaignWorkflow.approve, CREATOR)
    await handle.execute_update(CampaignWorkflow.approve, ApprovalDecision(approver="alice"))
    assert "alice has already approved" in await _refused(handle, CampaignWorkflow.approve, "alice")
    status = await handle.query(CampaignWorkflow.status)
    assert (status.state, status.waiting_reason) == (
        CampaignState.AWAITING_APPROVAL,
        "waiting for approval (1 of 2)",
    )
    assert status.approved_by == ["alice"]
    await asyncio.sleep(1)  # time enough for a wrongly started rollout to touch a host
    assert _untouched(lab, "alpha") == before

    await handle.execute_update(CampaignWorkflow.approve, ApprovalDecision(approver="erin"))
    result = await handle.result()
    assert result.state is CampaignState.COMPLETED
    assert {truth[0] for truth in _untouched(lab, "alpha").values()} == {BIOS_TARGET}


@pytest.mark.usefixtures("workers")
async def test_a_rejection_ends_the_campaign_aborted_with_no_host_touched(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = _untouched(lab, "bravo")
    handle = await _start(temporal_env, lab, "bravo", approvals=1)
    await _awaiting(handle)
    assert "reason: must not be blank" in await _refused(
        handle, CampaignWorkflow.reject, "alice", " "
    )
    await handle.execute_update(
        CampaignWorkflow.reject, ApprovalDecision(approver="alice", reason="no change ticket")
    )
    result = await handle.result()
    assert result.state is CampaignState.ABORTED
    assert result.stop_reason == "rejected by alice: no change ticket"
    kinds = [kind for kind, _ in _events(lab, result.campaign_id)]
    assert kinds == ["campaign.planned", "approval.needed", "campaign.aborted"]
    needed = dict(_events(lab, result.campaign_id))["approval.needed"]
    assert needed.startswith(f"needs 1 approval(s) from approvers other than its creator {CREATOR}")
    (bravo,) = result.clusters
    assert (bravo.outcomes, len(bravo.not_started)) == ([], len(before))
    assert _untouched(lab, "bravo") == before


@pytest.mark.usefixtures("workers")
async def test_an_unapproved_campaign_expires_with_no_host_touched(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = _untouched(lab, "bravo")
    handle = await _start(temporal_env, lab, "bravo", approvals=1, hours=0.001)  # 3.6 s
    result = await handle.result()
    assert result.state is CampaignState.ABORTED
    assert result.stop_reason == "approval expired after 0.001 h with 0 of 1 approvals"
    assert _untouched(lab, "bravo") == before


async def _start_per_cluster(
    env: WorkflowEnvironment, lab: Lab, approvals: int, hours: float = 1
) -> WorkflowHandle:
    spec = lab.bios_spec(
        {"clusters": ["alpha", "bravo"]},
        BIOS_TARGET,
        policy={
            "min_hosts_online": 2,
            "approval": {
                "required_approvals": approvals,
                "expires_after_hours": hours,
                "per_cluster": True,
            },
        },
    )
    return await lab.start_campaign(
        env.client, spec, "per-cluster", timedelta(minutes=5), created_by=CREATOR
    )


async def _clusters_waiting(handle: WorkflowHandle, count: int) -> CampaignStatus:
    deadline = time.monotonic() + 60
    while len((status := await handle.query(CampaignWorkflow.status)).cluster_approvals) < count:
        assert time.monotonic() < deadline, f"clusters never waited for approval: {status}"
        await asyncio.sleep(0.1)
    return status


def _decision(who: str, cluster: str | None, reason: str = "") -> ApprovalDecision:
    return ApprovalDecision(approver=who, cluster=cluster, reason=reason or None)


@pytest.mark.usefixtures("workers")
async def test_each_cluster_waits_for_its_own_approval_and_a_rejected_one_stays_untouched(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    alpha_before = _untouched(lab, "alpha")
    handle = await _start_per_cluster(temporal_env, lab, approvals=1)
    status = await _clusters_waiting(handle, 2)
    assert status.state is CampaignState.RUNNING
    assert status.waiting_reason == (
        "waiting for approval of cluster alpha (0 of 1), cluster bravo (0 of 1)"
    )
    assert [(a.cluster, a.state) for a in status.cluster_approvals] == [
        ("alpha", "waiting"),
        ("bravo", "waiting"),
    ]
    assert status.clusters == []  # no rollout started, so no host touched

    async def refused(decision: ApprovalDecision) -> str:
        with pytest.raises(WorkflowUpdateFailedError) as error:
            await handle.execute_update(CampaignWorkflow.approve, decision)
        return str(error.value.cause)

    assert "approved per cluster: name the cluster (waiting: alpha, bravo)" in await refused(
        _decision("alice", None)
    )
    assert "cluster zulu does not wait for approval" in await refused(_decision("alice", "zulu"))
    assert "creator cannot approve" in await refused(_decision(CREATOR, "bravo"))

    await handle.execute_update(
        CampaignWorkflow.reject, _decision("alice", "alpha", "alpha's change window is frozen")
    )
    assert "cluster alpha no longer waits for approval" in await refused(_decision("erin", "alpha"))
    await handle.execute_update(CampaignWorkflow.approve, _decision("erin", "bravo"))
    result = await handle.result()

    assert result.state is CampaignState.FINISHED_WITH_FAILURES
    assert result.stop_reason is None
    alpha, bravo = sorted(result.clusters, key=lambda c: c.cluster)
    assert alpha.stopped_reason == "rejected by alice: alpha's change window is frozen"
    assert (alpha.outcomes, len(alpha.not_started)) == ([], len(alpha_before))
    assert (bravo.stopped_reason, bravo.not_started) == (None, [])
    assert _untouched(lab, "alpha") == alpha_before
    assert {truth[0] for truth in _untouched(lab, "bravo").values()} == {BIOS_TARGET}
    assert not any(truth[2] for truth in _untouched(lab, "bravo").values())
    needed = [d for kind, d in _events(lab, result.campaign_id) if kind == "approval.needed"]
    assert len(needed) == 2
    assert all(
        d.startswith(
            f"needs 1 approval(s) from approvers other than the campaign's creator {CREATOR} "
            "within 1 h before its first host"
        )
        for d in needed
    )


@pytest.mark.usefixtures("workers")
async def test_when_every_cluster_expires_unapproved_the_campaign_ends_aborted(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = {**_untouched(lab, "alpha"), **_untouched(lab, "bravo")}
    handle = await _start_per_cluster(temporal_env, lab, approvals=1, hours=0.001)  # 3.6 s
    result = await handle.result()
    expired = "approval expired after 0.001 h with 0 of 1 approvals"
    assert result.state is CampaignState.ABORTED
    assert result.stop_reason == f"no cluster approved: alpha: {expired}; bravo: {expired}"
    assert {c.stopped_reason for c in result.clusters} == {expired}
    assert {**_untouched(lab, "alpha"), **_untouched(lab, "bravo")} == before
    status = await handle.query(CampaignWorkflow.status)
    assert [(a.cluster, a.state) for a in status.cluster_approvals] == [
        ("alpha", "expired"),
        ("bravo", "expired"),
    ]


@pytest.mark.usefixtures("workers")
async def test_an_abort_ends_the_clusters_still_waiting_for_approval_untouched(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = {**_untouched(lab, "alpha"), **_untouched(lab, "bravo")}
    handle = await _start_per_cluster(temporal_env, lab, approvals=2)
    await _clusters_waiting(handle, 2)
    await handle.execute_update(CampaignWorkflow.approve, _decision("erin", "alpha"))
    await handle.execute_update(CampaignWorkflow.abort, AbortRequest(reason="freeze"))
    result = await handle.result()
    assert result.state is CampaignState.ABORTED
    assert result.stop_reason == "aborted by an operator: freeze"
    assert all(c.outcomes == [] and c.not_started for c in result.clusters)
    assert {**_untouched(lab, "alpha"), **_untouched(lab, "bravo")} == before
