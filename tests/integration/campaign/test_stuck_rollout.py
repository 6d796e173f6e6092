"""A rollout or runbook that cannot move by itself is named, alerted, and ended by an abort.

The wedges are real, not mocked: a worker running an incompatible release of the rollout
and the runbook starts a campaign and is replaced mid-campaign by today's worker, whose
replay of those histories fails with a non-determinism error on every workflow task (the
same failure as ../shared/repro/cold-query-now's stuck history, see tests/replay). They
cannot hear a stop any more; the campaign must still see them, say so, and on abort end
them from outside with every host reported as it really is.
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
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
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
from tests.integration.campaign.incompatible_release import (
    STUCK,
    STUCK_HOST,
    IncompatibleRollout,
    IncompatibleRunbook,
)
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from workers.main import build_worker
from workers.registry import queue_specs
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow

T = TypeVar("T")
POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 1,
    "global_max_concurrent": 2,
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}


@asynccontextmanager
async def workers(client: Client, lab: Lab, release: dict[type, type]) -> AsyncIterator[None]:
    """Every task queue polled, the campaigns queue with the given workflow releases."""

    def released(workflows: tuple[type, ...]) -> tuple[type, ...]:
        return tuple(release.get(w, w) for w in workflows)

    with ExitStack() as pools:
        async with AsyncExitStack() as stack:
            for spec in queue_specs(lab.resources, client):
                spec = replace(spec, workflows=released(tuple(spec.workflows)))
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
    previous = {
        ClusterRolloutWorkflow: IncompatibleRollout,
        HostUpdateWorkflow: IncompatibleRunbook,
    }
    async with workers(client, lab, previous):
        handle = await lab.start_campaign(client, spec, "stuck", timedelta(minutes=10))
        campaign_id = int(handle.id.removeprefix("campaign-"))
        # Ids repeat across test modules (each has its own database): only runs started
        # after this campaign are its own.
        started = (await handle.describe()).start_time

        def of_this_campaign(description: WorkflowExecutionDescription) -> bool:
            return description.start_time >= started

        for tag in (alpha[0], STUCK_HOST):
            runbook = client.get_workflow_handle(host_workflow_id(campaign_id, tag))
            await _eventually(runbook.describe, of_this_campaign, f"{tag}'s runbook")
        stuck_host = client.get_workflow_handle(host_workflow_id(campaign_id, STUCK_HOST))

    # Today's release takes over: the stuck workflows' every task now fails. Any event wakes
    # them; an operator's resume (not paused: a no-op) and a signal nobody handles here.
    async with workers(client, lab, {}):
        await client.get_workflow_handle(cluster_workflow_id(campaign_id, STUCK)).signal(
            ClusterRolloutWorkflow.resume
        )
        await stuck_host.signal("wake")
        status: CampaignStatus = await _eventually(
            lambda: handle.query(CampaignWorkflow.status),
            lambda s: len(s.problems) == 2,
            "the campaign to name the stuck rollout and runbook",
        )
        problems = {p.workflow_id: p for p in status.problems}
        assert problems.keys() == {cluster_workflow_id(campaign_id, STUCK), stuck_host.id}
        assert problems[stuck_host.id].service_tag == STUCK_HOST
        assert problems[stuck_host.id].cluster == "bravo"
        for problem in problems.values():
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

    # The stuck runbook was ended from outside; where it stopped is for a human to check.
    bravo = next(c for c in result.clusters if c.cluster == "bravo")
    held = next(o for o in bravo.outcomes if o.service_tag == STUCK_HOST)
    assert held.status is HostStatus.HELD and "ended from outside" in held.reason
    assert lab.idrac_state(STUCK_HOST)["update_jobs"] == 0  # it never got past its wait

    rollout = await client.get_workflow_handle(cluster_workflow_id(campaign_id, STUCK)).describe()
    assert rollout.status is WorkflowExecutionStatus.TERMINATED
    with Session(lab.resources.engine) as session:
        alerts = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "cluster.alert",
                AuditEvent.target == f"campaign:{campaign_id}/cluster:{STUCK}",
            )
        ).all()
        host_alerts = session.exec(
            select(AuditEvent).where(
                AuditEvent.target == f"campaign:{campaign_id}/host:{STUCK_HOST}"
            )
        ).all()
    assert len(alerts) == 1 and "workflow task failing" in alerts[0].detail
    assert any("workflow task failing" in a.detail for a in host_alerts)
