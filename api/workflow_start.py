"""Starting an onboarding workflow from a route: Temporal trouble is a 503 naming why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import anyio
from fastapi import HTTPException, status
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.crud import Message, save
from api.state import AppState
from domain.temporal_names import TaskQueue

TEMPORAL_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": Message, "description": "Temporal unreachable or refused the start"}
}


async def start_workflow(
    state: AppState,
    name: str,
    argument: Any,
    workflow_id: str,
    task_queue: TaskQueue = TaskQueue.CAMPAIGNS,
) -> None:
    """Start NAME with id WORKFLOW_ID on TASK_QUEUE (same id: same run)."""
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
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"Temporal refused the start: {exc.message}"
        ) from None


class RunRecord(Protocol):
    id: int | None
    workflow_id: str | None


R = TypeVar("R", bound=RunRecord)


async def start_recorded(
    state: AppState,
    session: Session,
    run: R,
    name: str,
    argument: Any,
    workflow_id: str,
    fail: Callable[[Engine, int, str], None],
) -> R:
    """Start the workflow of a run just recorded; if Temporal refuses, the run is failed
    with the reason (never left "running" with nothing behind it) and the 503 raised."""
    try:
        await start_workflow(state, name, argument, workflow_id)
    except HTTPException as exc:
        await anyio.to_thread.run_sync(fail, state.engine, run.id or 0, str(exc.detail))
        raise
    run.workflow_id = workflow_id
    return await anyio.to_thread.run_sync(save, session, run)  # type: ignore[arg-type]
