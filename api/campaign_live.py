"""A campaign as Temporal sees it, and its own status recorded from that.

Reading degrades instead of failing: with Temporal down, no worker answering or a result
that cannot be read, the stored status stands and ``live.detail`` says why. Writing never
touches a final status: the first reader to see a workflow closed records how the campaign
ended (and audits it, timed at the close); every later read returns exactly that, even once
Temporal has forgotten the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from pydantic import ValidationError
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from activities.audit_trail import ACTOR
from api.campaign_schemas import LiveStatus
from api.campaign_status import FINAL, ending_of, status_text
from api.state import AppState
from common.logging import get_logger
from domain.campaign_spec import QUERY_STATUS
from domain.runbook import CampaignResult, CampaignState, CampaignStatus, RolloutProblem
from store.audit import AuditRecord, append
from store.models import Campaign, utcnow

log = get_logger(__name__)
QUERY_TIMEOUT = timedelta(seconds=2)
SETTLE_BUDGET_S = 3.0
END_ACTION = "campaign.end"
REASON_LIMIT = 2000


@dataclass(frozen=True)
class Observation:
    """What one look at the workflow showed; ``status`` None: nothing to record."""

    live: LiveStatus
    status: str | None = None
    reason: str | None = None
    finished_at: datetime | None = None
    problems: list[RolloutProblem] = field(default_factory=list)


def _unavailable(temporal_status: str | None, detail: str | None) -> Observation:
    return Observation(
        LiveStatus(available=False, temporal_status=temporal_status, status=None, detail=detail)
    )


async def observe(state: AppState, campaign: Campaign, *, query: bool = True) -> Observation:
    """The campaign's own status from its workflow: the `status` query while it runs, its
    result once closed. ``query=False`` looks only for an end (no worker round trip)."""
    try:
        client = await state.temporal_client()
        handle = client.get_workflow_handle(campaign.workflow_id or "", result_type=CampaignResult)
        description = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # e.g. past the namespace's retention
            return _unavailable(
                None, f"Temporal has no workflow {campaign.workflow_id}; showing the stored state"
            )
        return _unavailable(None, f"Temporal unavailable ({exc.message}); showing the stored state")
    except Exception as exc:
        return _unavailable(
            None, f"Temporal unavailable ({type(exc).__name__}); showing the stored state"
        )
    execution = description.status.name if description.status else None
    if description.status != WorkflowExecutionStatus.RUNNING:
        return await _ended(handle, campaign, execution, description.close_time)
    if not query:
        return _unavailable(execution, None)
    return await _running(client, handle, campaign, execution)


async def _ended(
    handle: WorkflowHandle[Any, CampaignResult],
    campaign: Campaign,
    execution: str | None,
    closed_at: datetime | None,
) -> Observation:
    """A closed workflow's result; closed without one, how it closed (aborted if an
    operator's abort came first: the workflow was ended from outside after it)."""
    try:
        result = await handle.result(rpc_timeout=QUERY_TIMEOUT)
    except WorkflowFailureError as failure:
        ending, how = ending_of(failure.cause), failure.cause.message if failure.cause else None
        text = status_text(ending, how)
        closed = f"the workflow closed without a result ({text})"
        live = LiveStatus(available=False, temporal_status=execution, status=None, detail=closed)
        if campaign.abort_reason is not None:
            reason = f"aborted by an operator: {campaign.abort_reason} (workflow {text})"
            return Observation(live, CampaignState.ABORTED, reason, closed_at)
        return Observation(live, ending, how, closed_at)
    except Exception as exc:
        return _unavailable(execution, f"the final result could not be read ({type(exc).__name__})")
    live = LiveStatus(
        available=True,
        temporal_status=execution,
        status=result.model_dump(mode="json"),
        detail=None,
    )
    return Observation(live, result.state, result.stop_reason, closed_at)


async def _running(
    client: Client,
    handle: WorkflowHandle[Any, CampaignResult],
    campaign: Campaign,
    execution: str | None,
) -> Observation:
    try:
        answer = await handle.query(QUERY_STATUS, rpc_timeout=QUERY_TIMEOUT)
    except Exception as exc:
        return _unavailable(
            execution,
            f"no worker answered the `{QUERY_STATUS}` query within "
            f"{QUERY_TIMEOUT.total_seconds():g}s ({type(exc).__name__}); "
            "showing the stored state",
        )
    status_dict = answer if isinstance(answer, dict) else {"value": answer}
    live = LiveStatus(
        available=True,
        temporal_status=execution,
        status=status_dict,
        detail=None,
        clusters=await _cluster_statuses(client, campaign, status_dict),
    )
    try:
        status = CampaignStatus.model_validate(status_dict)
    except ValidationError:  # another workflow version: shown as it answers, not recorded
        return Observation(live)
    # The stop reason becomes the campaign's once it has ended (shown live until then).
    # A final state answered while the workflow still runs (it is sending its last
    # notifications) is recorded from the closed workflow, with its end time.
    recorded = None if status.state in FINAL else status.state
    return Observation(live, recorded, problems=status.problems)


async def _cluster_statuses(
    client: Client, campaign: Campaign, status_dict: dict[str, Any]
) -> list[dict[str, Any]]:
    """Ask each cluster rollout, and each of its running hosts, where it stands."""
    found = []
    for name in status_dict.get("clusters") or []:
        handle = client.get_workflow_handle(f"{campaign.workflow_id}-cluster-{name}")
        try:
            cluster = await handle.query(QUERY_STATUS, rpc_timeout=QUERY_TIMEOUT)
        except Exception:  # noqa: S112  (finished or not started: the campaign status covers it)
            continue
        running = cluster.get("running") or {}
        for tag in running:
            host = client.get_workflow_handle(f"{campaign.workflow_id}-host-{tag}")
            try:
                running[tag] = await host.query("current_step", rpc_timeout=QUERY_TIMEOUT)
            except Exception:  # noqa: S112  (just finished: the next read shows its outcome)
                continue
        found.append(cluster)
    return found


# --- the stored record -------------------------------------------------------------------


def update_open(engine: Engine, campaign_id: int, **changes: Any) -> tuple[Campaign, bool]:
    """Apply ``changes`` unless the campaign has already ended; the row as it now is, and
    whether this call changed it. One statement, so two writers cannot both end it."""
    with Session(engine) as session:
        changed = session.exec(
            update(Campaign)
            .where(col(Campaign.id) == campaign_id, col(Campaign.status).not_in(FINAL))
            .values(**changes, updated_at=utcnow())
        ).rowcount
        session.commit()
        row = session.get(Campaign, campaign_id)
        assert row is not None  # campaigns are never deleted
        return row, changed == 1


def record(state: AppState, campaign: Campaign, seen: Observation) -> Campaign:
    """Store the observed status if it is news; an end also goes to the audit trail."""
    reason = seen.reason[:REASON_LIMIT] if seen.reason else None
    if (
        seen.status is None
        or campaign.status in FINAL
        or (seen.status, reason) == (campaign.status, campaign.status_reason)
    ):
        return campaign
    row, changed = update_open(
        state.engine,
        campaign.id or 0,
        status=seen.status,
        status_reason=reason,
        finished_at=seen.finished_at,
    )
    if changed and seen.status in FINAL:
        try:
            append(
                state.engine,
                AuditRecord(
                    actor=ACTOR,
                    action=END_ACTION,
                    target=f"campaign:{row.id}",
                    outcome=seen.status,
                    detail=status_text(seen.status, reason),
                ),
                at=seen.finished_at,
                keys=state.audit_keys,
            )
        except Exception:
            # The end is recorded on the campaign; losing its audit entry must be loud.
            log.exception("campaign end could not be audited", campaign_id=row.id)
    return row


def _started_not_ended(engine: Engine) -> list[Campaign]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Campaign).where(
                    col(Campaign.workflow_id).is_not(None), col(Campaign.status).not_in(FINAL)
                )
            ).all()
        )


async def settle_open_campaigns(state: AppState) -> None:
    """Record the end of every started campaign whose workflow has closed, so that lists and
    their status filter show how campaigns ended without anyone reading each one first.
    Bounded in time: with Temporal slow or down, the list shows the stored states."""
    started = await anyio.to_thread.run_sync(_started_not_ended, state.engine)

    async def settle(campaign: Campaign) -> None:
        seen = await observe(state, campaign, query=False)
        await anyio.to_thread.run_sync(record, state, campaign, seen)

    with anyio.move_on_after(SETTLE_BUDGET_S):
        async with anyio.create_task_group() as group:
            for campaign in started:
                group.start_soon(settle, campaign)
