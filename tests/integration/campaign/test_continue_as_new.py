"""A cluster rollout whose history grows long continues as new between hosts, carrying
its progress, and the campaign still ends with every host updated once and announced once
(no host.finished left behind by a run that continued)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from domain.notifications import EventKind
from domain.runbook import CampaignState, HostStatus
from store.notifications import NotificationEventRow
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from tests.services.temporal import TemporalDevServer
from workers.main import running_workers

# Far below the production default (4,096 events), so a 4-host cluster must continue.
SUGGEST_AFTER_EVENTS = 40


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[TemporalDevServer]:
    flag = f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}"
    server = TemporalDevServer(tmp_path / "temporal", ["--dynamic-config-value", flag])
    server.start()
    yield server
    server.stop()


async def test_cluster_rollout_continues_as_new_and_keeps_its_progress(
    lab: Lab, temporal: TemporalDevServer
) -> None:
    client = await temporal.client()
    spec = lab.bios_spec(
        {"clusters": ["alpha"]},
        BIOS_TARGET,
        policy={"max_concurrent_per_cluster": 1, "min_hosts_online": 1},
    )
    jobs_before = {tag: lab.idrac_state(tag)["update_jobs"] for tag in lab.server_ids}
    async with running_workers(client, lab.resources):
        handle = await lab.start_campaign(client, spec, "continue-as-new", timedelta(minutes=5))
        result = await handle.result()
    cluster_id = f"{handle.id}-cluster-alpha"
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{cluster_id}'")]
    assert len(runs) >= 2, "the rollout never continued as new"
    assert result.state is CampaignState.COMPLETED
    (alpha,) = result.clusters
    tags = [f"ALAB00{i}" for i in range(1, 5)]
    assert sorted(o.service_tag for o in alpha.outcomes) == tags  # carried across runs
    assert all(o.status is HostStatus.UPDATED for o in alpha.outcomes)
    for tag in tags:
        assert lab.idrac_state(tag)["update_jobs"] - jobs_before[tag] == 1
    with Session(lab.resources.engine) as session:
        announced = session.exec(
            select(NotificationEventRow.key).where(
                NotificationEventRow.kind == EventKind.HOST_FINISHED.value,
                NotificationEventRow.campaign_id == result.campaign_id,
            )
        ).all()
    assert sorted(announced) == [f"{cluster_id}/host.finished/{tag}" for tag in tags]
