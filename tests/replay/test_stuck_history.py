"""The stuck rollout of ../shared/repro/cold-query-now, replayed against today's code.

Its live run decided on an elapsed ``workflow.now()`` that differed from the history's
(docs/temporal-now-after-cold-query.md) and started a host where every replay waits. No
code can replay such a history: today's rollouts decide on a clock recorded in history
instead, and a rollout that is stuck anyway is named, alerted and ended from outside
(tests/integration/campaign/test_stuck_rollout.py). This test keeps the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.campaign import CampaignWorkflow
from workflows.cluster import ClusterRolloutWorkflow
from workflows.host import HostUpdateWorkflow

STUCK = Path(__file__).with_name("stuck") / "ClusterRolloutWorkflow-campaign-5-cluster-east-db.json"


async def test_the_stuck_history_diverges_where_its_live_run_decided_on_stale_time() -> None:
    history = WorkflowHistory.from_json("campaign-5-cluster-east-db", json.loads(STUCK.read_text()))
    replayer = Replayer(
        workflows=[CampaignWorkflow, ClusterRolloutWorkflow, HostUpdateWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    failure = str(result.replay_failure)
    assert "Nondeterminism" in failure or "TMPRL1100" in failure
    assert "id: 21" in failure and "StartChildWorkflowExecutionInitiated" in failure
