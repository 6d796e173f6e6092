"""Starting an onboarding workflow from a route: Temporal trouble is a 503 naming why."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.crud import Message
from api.state import AppState
from domain.temporal_names import TaskQueue

TEMPORAL_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": Message, "description": "Temporal unreachable or refused the start"}
}


async def start_workflow(state: AppState, name: str, argument: Any, workflow_id: str) -> None:
    """Start NAME with id WORKFLOW_ID on the campaigns queue (same id: same run)."""
    try:
        client = await state.temporal_client()
    except (RuntimeError, OSError, TimeoutError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"Temporal at {state.settings.temporal_address} is unreachable: "
            f"{type(exc).__name__}",
        ) from None
    try:
        await client.start_workflow(
            name,
            argument,
            id=workflow_id,
            task_queue=TaskQueue.CAMPAIGNS,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"Temporal refused the start: {exc.message}"
        ) from None
