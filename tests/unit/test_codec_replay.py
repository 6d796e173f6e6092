"""Histories recorded before the payload codec (plaintext, tests/replay/histories) replay
with the codec-enabled converter: campaigns in flight at the upgrade carry on."""

from __future__ import annotations

from temporalio.worker import Replayer

from common.settings import Settings
from common.temporal import data_converter
from tests.replay.histories import load_all
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow


async def test_plaintext_histories_replay_with_the_codec() -> None:
    replayer = Replayer(
        workflows=[CampaignWorkflow, ClusterRolloutWorkflow, HostUpdateWorkflow],
        data_converter=data_converter(Settings(secret_key="a key set after the recording")),
    )
    histories = load_all()
    assert histories
    replays = [await replayer.replay_workflow(h, raise_on_replay_failure=False) for h in histories]
    assert {r.history.workflow_id: str(r.replay_failure) for r in replays if r.replay_failure} == {}
