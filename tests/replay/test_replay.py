"""Replay recorded campaign histories against today's workflow code.

A change that makes the workflows non-deterministic (a new activity, timer or child
without ``workflow.patched``) fails here instead of breaking campaigns in flight.
Record with: IDRAC_ORCH_RECORD_HISTORIES=<release> pytest tests/integration/campaign
(histories of the release before a workflow change must replay after it)
"""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.replay.histories import load_all
from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow


async def test_recorded_histories_replay_without_nondeterminism() -> None:
    histories = load_all()
    kinds = {
        h.events[0].workflow_execution_started_event_attributes.workflow_type.name
        for h in histories
    }
    assert kinds == {"CampaignWorkflow", "ClusterRolloutWorkflow", "HostUpdateWorkflow"}
    replayer = Replayer(
        workflows=[CampaignWorkflow, ClusterRolloutWorkflow, HostUpdateWorkflow],
        data_converter=pydantic_data_converter,
    )
    failures = {}
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = str(result.replay_failure)
    assert failures == {}
