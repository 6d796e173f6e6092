"""Where recorded workflow histories live, and how they are written and read."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

HISTORIES = Path(__file__).with_name("histories")
WORKFLOW_TYPES = ("CampaignWorkflow", "ClusterRolloutWorkflow", "HostUpdateWorkflow")


def recorded_names(target: Path = HISTORIES) -> set[str]:
    return {path.name for path in target.glob("*/*.json")}


async def record_all(
    client: Client, scenario: str, known: set[str], target: Path = HISTORIES
) -> int:
    """Save every finished rollout workflow not in KNOWN (file names) under SCENARIO."""
    types = " OR ".join(f"WorkflowType = '{t}'" for t in WORKFLOW_TYPES)
    saved = 0
    async for execution in client.list_workflows(f"({types}) AND ExecutionStatus != 'Running'"):
        name = f"{execution.workflow_type}-{execution.id}.json"
        if name in known:
            continue
        history = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).fetch_history()
        path = target / scenario / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(history.to_json())
        saved += 1
    return saved


def load_all(source: Path = HISTORIES) -> list[WorkflowHistory]:
    histories = []
    for path in sorted(source.glob("*/*.json")):
        workflow_id = path.stem.split("-", 1)[1]
        histories.append(WorkflowHistory.from_json(workflow_id, json.loads(path.read_text())))
    return histories
