"""Rollouts waiting right now, by category of reason, asked of the running workflows.

Why a rollout waits lives only in its workflow (the ``status`` query), not in the store,
so each scrape asks the campaigns the store still calls open, and their clusters, all at
once and within a budget: a slow or absent worker leaves those rollouts uncounted for that
scrape, never the scrape itself stuck.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import QueryRejectCondition

from api.campaign_status import FINAL
from api.state import AppState
from domain.campaign_spec import QUERY_STATUS
from domain.temporal_names import cluster_workflow_id
from domain.wait_reasons import WaitCategory, wait_category
from store.models import Campaign

SCRAPE_BUDGET_S = 3.0
QUERY_TIMEOUT = timedelta(seconds=2)


async def waiting_rollouts(state: AppState) -> Counter[WaitCategory]:
    """Campaign and cluster workflows that say they wait, counted by category."""
    waits: Counter[WaitCategory] = Counter()
    open_ids = await anyio.to_thread.run_sync(_open_campaigns, state.engine)
    if not open_ids:
        return waits  # nothing to ask: no Temporal connection needed
    with anyio.move_on_after(SCRAPE_BUDGET_S):
        try:
            client = await state.temporal_client()
        except Exception:  # Temporal unreachable: /healthz says so; the scrape goes on
            return waits
        async with anyio.create_task_group() as group:
            for campaign_id, workflow_id in open_ids:
                group.start_soon(_count_campaign, client, campaign_id, workflow_id, waits)
    return waits


def _open_campaigns(engine: Engine) -> list[tuple[int, str]]:
    """(id, workflow id) of the campaigns started and not yet seen to end."""
    with Session(engine) as session:
        rows = session.exec(
            select(Campaign.id, Campaign.workflow_id).where(
                col(Campaign.workflow_id).is_not(None), col(Campaign.status).not_in(FINAL)
            )
        ).all()
    return [(campaign_id, workflow_id) for campaign_id, workflow_id in rows if campaign_id]


async def _count_campaign(
    client: Client, campaign_id: int, workflow_id: str, waits: Counter[WaitCategory]
) -> None:
    status = await _status(client, workflow_id)
    _count(status, waits)
    async with anyio.create_task_group() as group:
        for cluster in status.get("clusters") or []:
            group.start_soon(
                _count_cluster, client, cluster_workflow_id(campaign_id, cluster), waits
            )


async def _count_cluster(client: Client, workflow_id: str, waits: Counter[WaitCategory]) -> None:
    _count(await _status(client, workflow_id), waits)


def _count(status: dict[str, Any], waits: Counter[WaitCategory]) -> None:
    reason = status.get("waiting_reason")
    if isinstance(reason, str) and reason:
        waits[wait_category(reason)] += 1


async def _status(client: Client, workflow_id: str) -> dict[str, Any]:
    """The workflow's ``status`` answer; empty when it has closed (refused by the server:
    a closed workflow's query would make a worker replay its whole history, every scrape)
    or no worker answered (the API's campaign pages say why; a scrape just skips it)."""
    try:
        answer = await client.get_workflow_handle(workflow_id).query(
            QUERY_STATUS,
            rpc_timeout=QUERY_TIMEOUT,
            reject_condition=QueryRejectCondition.NOT_OPEN,
        )
    except Exception:
        return {}
    return answer if isinstance(answer, dict) else {}
