"""Where recorded workflow histories live, and how they are written and read."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

HISTORIES = Path(__file__).with_name("histories")
WORKFLOW_TYPES = ("CampaignWorkflow", "ClusterRolloutWorkflow", "HostUpdateWorkflow")
Execution = tuple[str, str]  # workflow id, run id


async def closed_executions(client: Client) -> set[Execution]:
    types = " OR ".join(f"WorkflowType = '{t}'" for t in WORKFLOW_TYPES)
    query = f"({types}) AND ExecutionStatus != 'Running'"
    return {(e.id, e.run_id or "") async for e in client.list_workflows(query)}


async def record_new(
    client: Client, folder_name: str, before: set[Execution], target: Path = HISTORIES
) -> int:
    """Save in FOLDER_NAME every rollout workflow that closed since BEFORE was read; files
    already there are kept (they are what an earlier release wrote)."""
    folder = target / folder_name
    saved = 0
    for workflow_id, run_id in sorted(await closed_executions(client) - before):
        handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
        history = await handle.fetch_history()
        kind = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        path = folder / f"{kind}-{workflow_id}.json"
        if path.exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(history.to_json())
        saved += 1
    return saved


def load_all(source: Path = HISTORIES) -> list[WorkflowHistory]:
    histories = []
    for path in sorted(source.glob("*/*.json")):
        workflow_id = path.stem.split("-", 1)[1]
        histories.append(WorkflowHistory.from_json(workflow_id, json.loads(path.read_text())))
    return histories
