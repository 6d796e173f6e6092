"""A real campaign through codec-enabled clients and workers leaves Temporal's database
without our payload content; its histories replay after a key rotation.

Temporal runs as a dev server of this test's own, persisted with --db-filename, so the
SQLite file is what a database administrator (or a stolen backup) would read.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from common.settings import Settings
from common.temporal import codec_keys, connect, data_converter
from domain.runbook import CampaignState, HostStatus
from tests.integration.campaign.lab import BIOS_TARGET, Lab, running_lab
from tests.services.postgres import fresh_database
from tests.services.temporal import TemporalDevServer
from workers.main import running_workers
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow

CLUSTER = "alpha"
FAULT = "RED007"  # an iDRAC job error code, carried in failure messages
# One failing host must not stop the others: the cluster's threshold is above one.
POLICY = {"cluster_failure_threshold": 2, "campaign_failure_threshold": 2, "on_failure": "rollback"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with fresh_database() as url, running_lab(url, tmp_path_factory.mktemp("lab")) as running:
        yield running


def _database_bytes(server: TemporalDevServer) -> bytes:
    """The dev server's SQLite database and its write-ahead log, as stored on disk."""
    files = sorted(server.settings.data_dir.glob("temporal.db*"))
    assert files, "the dev server wrote no database file"
    return b"".join(path.read_bytes() for path in files)


async def _histories(client: Client, campaign_id: int) -> list[WorkflowHistory]:
    executions = client.list_workflows(f"CampaignId = '{campaign_id}'")
    ids = {e.id async for e in executions} | {f"campaign-{campaign_id}"}
    return [await client.get_workflow_handle(i).fetch_history() for i in sorted(ids)]


async def test_campaign_payloads_are_ciphertext_in_temporals_database(
    lab: Lab, temporal: TemporalDevServer
) -> None:
    settings = lab.settings.model_copy(update={"temporal_address": temporal.address})
    client = await connect(settings)
    spec = lab.bios_spec({"clusters": [CLUSTER]}, BIOS_TARGET, policy=POLICY)
    hosts = [h for _, c, h in lab.fleet.hosts() if c.name == CLUSTER]
    failing = hosts[-1].service_tag
    lab.set_faults(failing, job_fails=FAULT)
    try:
        async with running_workers(client, lab.resources):
            handle = await lab.start_campaign(client, spec, "codec", timedelta(minutes=5))
            result = await handle.result()
    finally:
        lab.set_faults(failing, job_fails=None)
    outcomes = {o.service_tag: o for c in result.clusters for o in c.outcomes}
    assert result.state is CampaignState.FINISHED_WITH_FAILURES
    assert all(outcomes[h.service_tag].status is HostStatus.UPDATED for h in hosts[:-1])
    # The iDRAC's error reached the workflow through an encrypted failure, readable there.
    assert outcomes[failing].status is HostStatus.FAILED  # the job failed, nothing changed
    assert FAULT in outcomes[failing].reason
    histories = await _histories(client, result.campaign_id)
    temporal.stop()  # flush everything to the file

    stored = _database_bytes(temporal)
    # The scan sees history blobs (activity names) and the documented plaintext
    # (workflow ids and search attributes: cluster names, service tags, campaign ids).
    assert b"enter_maintenance" in stored and b"ClusterName" in stored
    assert CLUSTER.encode() in stored and hosts[0].service_tag.encode() in stored
    secrets = [
        *(h.name for h in hosts),
        *(h.idrac_address for h in hosts),
        lab.settings.effective_package_repository_url,
        BIOS_TARGET,
        "BIOS_8MRPC",  # the package file name in its URI
        FAULT,  # failure messages and stack traces are encrypted too
    ]
    assert [s for s in secrets if s.encode() in stored] == []

    # Rotation: a new key in front, the old one kept; the histories written under the
    # old key replay, so workflows in flight during a rotation go on.
    rotated = Settings(
        payload_keys={
            "next": base64.b64encode(os.urandom(32)).decode(),
            **{k.key_id: base64.b64encode(k.secret).decode() for k in codec_keys(settings)},
        }
    )
    replayer = Replayer(
        workflows=[CampaignWorkflow, ClusterRolloutWorkflow, HostUpdateWorkflow],
        data_converter=data_converter(rotated),
    )
    for history in histories:
        replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replay.replay_failure is None, (history.workflow_id, replay.replay_failure)
    # Without the old key nothing can be read back: the keys really are what protects it.
    locked = Replayer(
        workflows=[CampaignWorkflow],
        data_converter=data_converter(Settings(secret_key="some-other-key")),
    )
    campaign = next(h for h in histories if h.workflow_id == f"campaign-{result.campaign_id}")
    replay = await locked.replay_workflow(campaign, raise_on_replay_failure=False)
    assert replay.replay_failure is not None
