"""A rollout that cannot move by itself is named, alerted, and ended by an abort.

The wedge is real, not mocked: a worker running an incompatible release of the rollout
starts a campaign and is replaced mid-campaign by today's worker, whose replay of that
rollout's history fails with a non-determinism error on every workflow task (the same
failure as ../shared/repro/cold-query-now's stuck history, see tests/replay). Nothing in the
rollout can hear a stop any more; the campaign must still see it, say so, and on abort
end it from outside with its hosts reported as they really are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.campaign_spec import AbortRequest
from domain.runbook import (
    CampaignState,
    CampaignStatus,
    HostStatus,
)
from domain.temporal_names import cluster_workflow_id, host_workflow_id
from store.models import AuditEvent
from tests.integration.campaign.incompatible_release import STUCK, IncompatibleRollout
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from workers.main import build_worker
from workers.registry import queue_specs
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow

T = TypeVar("T")
POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 1,
    "global_max_concurrent": 2,
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}


@asynccontextmanager
async def workers(client: Client, lab: Lab, rollout: type) -> AsyncIterator[None]:
    """Every task queue polled, the campaigns queue with the given rollout release."""

    def release(workflows: tuple[type, ...]) -> tuple[type, ...]:
        return tuple(rollout if w is ClusterRolloutWorkflow else w for w in workflows)

    with ExitStack() as pools:
        async with AsyncExitStack() as stack:
            for spec in queue_specs(lab.resources, client):
                spec = replace(spec, workflows=release(tuple(spec.workflows)))
                await stack.enter_async_context(build_worker(client, spec, pools))
            yield


async def _eventually(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str) -> T:
    deadline = time.monotonic() + 120
    while True:
        try:
            value = await read()
            if ok(value):
                return value
        except RPCError:
            pass  # not started yet
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_a_wedged_rollout_is_named_alerted_and_ended_by_an_abort(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    client = temporal_env.client
    spec = lab.bios_spec({"clusters": [STUCK, "bravo"]}, BIOS_TARGET, policy=POLICY)
    alpha = [h.service_tag for _, c, h in lab.fleet.hosts() if c.name == STUCK]
    async with workers(client, lab, IncompatibleRollout):
        handle = await lab.start_campaign(client, spec, "stuck", timedelta(minutes=10))
        campaign_id = int(handle.id.removeprefix("campaign-"))
        first_host = client.get_workflow_handle(host_workflow_id(campaign_id, alpha[0]))
        await _eventually(first_host.describe, lambda _: True, "the first host's runbook")

    # Today's release takes over: the stuck rollout's every workflow task now fails. Any
    # event wakes it; an operator's resume (it is not paused: a no-op) is the one sent here.
    async with workers(client, lab, ClusterRolloutWorkflow):
        await client.get_workflow_handle(cluster_workflow_id(campaign_id, STUCK)).signal(
            ClusterRolloutWorkflow.resume
        )
        status: CampaignStatus = await _eventually(
            lambda: handle.query(CampaignWorkflow.status),
            lambda s: bool(s.problems),
            "the campaign to name the stuck rollout",
        )
        (problem,) = status.problems
        assert problem.cluster == STUCK
        assert problem.workflow_id == cluster_workflow_id(campaign_id, STUCK)
        assert "workflow task failing" in problem.detail
        assert "Nondeterminism" in problem.detail or "TMPRL1100" in problem.detail

        await handle.execute_update(CampaignWorkflow.abort, AbortRequest(reason="stuck rollout"))
        result = await asyncio.wait_for(handle.result(), timeout=180)

    assert result.state is CampaignState.ABORTED
    stuck = next(c for c in result.clusters if c.cluster == STUCK)
    outcomes = {o.service_tag: o.status for o in stuck.outcomes}
    # The host its rollout had started finished its own runbook and is reported as it is.
    assert outcomes == {alpha[0]: HostStatus.UPDATED}
    assert sorted(stuck.not_started) == sorted(alpha[1:])
    assert lab.idrac_state(alpha[0])["firmware"]["bios"] == BIOS_TARGET
    assert lab.idrac_state(alpha[0])["update_jobs"] == 1
    for tag in alpha[1:]:
        assert lab.idrac_state(tag)["update_jobs"] == 0
    assert STUCK not in lab.hosts_in_maintenance()

    rollout = await client.get_workflow_handle(cluster_workflow_id(campaign_id, STUCK)).describe()
    assert rollout.status is WorkflowExecutionStatus.TERMINATED
    with Session(lab.resources.engine) as session:
        alerts = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "cluster.alert",
                AuditEvent.target == f"campaign:{campaign_id}/cluster:{STUCK}",
            )
        ).all()
    assert len(alerts) == 1 and "workflow task failing" in alerts[0].detail
