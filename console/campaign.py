"""A campaign's page: its live timeline (server-sent events) and the operator's actions."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from api import sse
from api.campaign_history import CampaignHistory, HistoryReader
from api.campaign_live import Observation, observe, record
from api.crud import Id, get_or_404
from api.deps import StateDep
from api.routes import campaigns as api_campaigns
from api.security import Principal, check_approver
from api.state import AppState
from common.logging import get_logger
from console import reads
from console.actions import Action, operator, operator_action
from console.guard import viewer
from console.render import error_page, page
from console.session import principal_of
from console.timeline import TimelineContext, outcomes, snapshot
from domain.campaign_spec import AbortRequest, ApprovalRequest, RejectRequest
from store.models import Campaign

log = get_logger(__name__)
router = APIRouter(prefix="/ui/campaigns", include_in_schema=False)
POLL_S = 0.5  # status and waits; history is read again at its own, slower rate
NO_HISTORY = CampaignHistory({}, {}, {}, {}, {})


def _reader(request: Request) -> HistoryReader:
    """One per app: a cache of the histories read (Temporal keeps the record)."""
    app_state = request.app.state
    if not hasattr(app_state, "console_history"):
        app_state.console_history = HistoryReader()
    return app_state.console_history


async def _history(
    request: Request,
    state: AppState,
    campaign: Campaign,
    seen: Observation | None,
    stored: list[dict[str, Any]],
    clusters: list[str],
) -> CampaignHistory:
    """The bars and plan from Temporal; none (one bar per ended host) when it cannot say."""
    if campaign.id is None or campaign.workflow_id is None:
        return NO_HISTORY
    ended = {o["service_tag"] for o in stored}
    running: set[str] = set()
    if seen is not None:
        ended |= {o["service_tag"] for o in outcomes(seen.live.status or {})}
        for cluster in seen.live.clusters:
            running |= set(cluster.get("running") or {})
    try:
        client = await state.temporal_client()
        return await _reader(request).campaign(
            client, campaign.id, clusters, running | ended, ended
        )
    except Exception as exc:  # Temporal down or slow: the page still shows the rest
        log.warning("campaign_history_unavailable", campaign_id=campaign.id, error=repr(exc))
        return NO_HISTORY


def _load(state: AppState, campaign_id: int) -> Campaign:
    with Session(state.engine) as session:
        return get_or_404(session, Campaign, campaign_id)


async def timeline(request: Request, state: AppState, campaign_id: int) -> dict[str, Any]:
    """Look at the workflow (recording what it says, as the API's read does) and lay out
    the timeline."""
    campaign = await anyio.to_thread.run_sync(_load, state, campaign_id)
    seen = None
    if campaign.workflow_id is not None:
        seen = await observe(state, campaign)
        campaign = await anyio.to_thread.run_sync(record, state, campaign, seen)
    stored = await anyio.to_thread.run_sync(reads.stored_results, state.engine, campaign_id)
    tags = [r["service_tag"] for r in stored]
    if seen is not None:
        for cluster in seen.live.clusters:
            tags += [*(cluster.get("pending") or []), *(cluster.get("running") or {})]
    clusters_of = await anyio.to_thread.run_sync(reads.clusters_of, state.engine, tags)
    live = [str(c.get("cluster")) for c in seen.live.clusters] if seen else []
    names = sorted({*clusters_of.values(), *live})
    sites = await anyio.to_thread.run_sync(reads.sites, state.engine, names)
    context = TimelineContext(
        state.settings.effective_temporal_ui_url, state.settings.temporal_namespace
    )
    history = await _history(request, state, campaign, seen, stored, names)
    now = datetime.now(UTC)
    return snapshot(campaign, seen, stored, clusters_of, history, context, now, sites)


@router.get("/{campaign_id}", response_class=HTMLResponse, name="console_campaign")
async def campaign_page(campaign_id: Id, request: Request, state: StateDep) -> Response:
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    try:
        data = await timeline(request, state, campaign_id)
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    return page(request, state, "campaign.html", principal, data=data)


@router.get("/{campaign_id}/events", name="console_campaign_events")
async def campaign_events(campaign_id: Id, request: Request, state: StateDep) -> Response:
    """The timeline as server-sent events: a new snapshot whenever it changes, until the
    campaign has ended."""
    if principal_of(request, state) is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="log in to the console first")
    data = await timeline(request, state, campaign_id)  # 404 before the stream starts
    last = ""

    async def poll() -> tuple[list[str], sse.Next]:
        nonlocal data, last
        if last:  # the first round sends the snapshot taken above
            data = await timeline(request, state, campaign_id)
        text = json.dumps({k: v for k, v in data.items() if k != "now"}, sort_keys=True)
        changed, last = text != last, text
        frames = [sse.frame(data, "snapshot")] if changed else []
        return frames, "done" if data["campaign"]["final"] else "wait"

    return sse.response(sse.polled(request, poll, POLL_S))


async def _act(
    request: Request,
    state: AppState,
    campaign_id: int,
    action: Action,
    check: Callable[[Principal], object] = operator,
) -> Response:
    """An action on this campaign; back to its page afterwards."""
    return await operator_action(request, state, f"/ui/campaigns/{campaign_id}", action, check)


def _signal_route(action: str, call: Callable[[int, Any, Principal], Awaitable[object]]) -> None:
    """POST /ui/campaigns/{id}/ACTION: the API's own route function behind the console's
    login, role check and audit."""

    async def route(campaign_id: Id, request: Request, state: StateDep) -> Response:
        async def act(principal: Principal, _: dict[str, str]) -> object:
            return await call(campaign_id, state, principal)

        return await _act(request, state, campaign_id, act)

    name = f"console_{action}_campaign"
    router.add_api_route(f"/{{campaign_id}}/{action}", route, methods=["POST"], name=name)


_signal_route("start", api_campaigns.start_campaign)
_signal_route("pause", api_campaigns.pause_campaign)
_signal_route("resume", api_campaigns.resume_campaign)


Body = TypeVar("Body", bound=BaseModel)


def _with_reason(model: type[Body], form: dict[str, str], what: str) -> Body:
    """The request body from the form's reason, or a 422 saying what is missing."""
    try:
        return model(reason=form.get("reason", "").strip())
    except ValidationError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"give a reason for {what} (1 to 1000 characters)",
        ) from None


@router.post("/{campaign_id}/abort", name="console_abort_campaign")
async def abort(campaign_id: Id, request: Request, state: StateDep) -> Response:
    async def act(principal: Principal, form: dict[str, str]) -> object:
        if form.get("confirm") != "yes":
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="confirm the abort to proceed"
            )
        body = _with_reason(AbortRequest, form, "the abort")
        return await api_campaigns.abort_campaign(campaign_id, body, state, principal)

    return await _act(request, state, campaign_id, act)


@router.post("/{campaign_id}/approve", name="console_approve_campaign")
async def approve(campaign_id: Id, request: Request, state: StateDep) -> Response:
    async def act(principal: Principal, _: dict[str, str]) -> object:
        body = ApprovalRequest()
        return await api_campaigns.approve_campaign(campaign_id, body, state, principal)

    return await _act(request, state, campaign_id, act, check_approver)


@router.post("/{campaign_id}/reject", name="console_reject_campaign")
async def reject(campaign_id: Id, request: Request, state: StateDep) -> Response:
    async def act(principal: Principal, form: dict[str, str]) -> object:
        body = _with_reason(RejectRequest, form, "the rejection")
        return await api_campaigns.reject_campaign(campaign_id, body, state, principal)

    return await _act(request, state, campaign_id, act, check_approver)


@router.post("/{campaign_id}/clusters/{cluster}/approve", name="console_approve_cluster")
async def approve_cluster(
    campaign_id: Id, cluster: api_campaigns.ClusterName, request: Request, state: StateDep
) -> Response:
    async def act(principal: Principal, _: dict[str, str]) -> object:
        body = ApprovalRequest()
        return await api_campaigns.approve_cluster(campaign_id, cluster, body, state, principal)

    return await _act(request, state, campaign_id, act, check_approver)


@router.post("/{campaign_id}/clusters/{cluster}/reject", name="console_reject_cluster")
async def reject_cluster(
    campaign_id: Id, cluster: api_campaigns.ClusterName, request: Request, state: StateDep
) -> Response:
    async def act(principal: Principal, form: dict[str, str]) -> object:
        body = _with_reason(RejectRequest, form, f"the rejection of cluster {cluster}")
        return await api_campaigns.reject_cluster(campaign_id, cluster, body, state, principal)

    return await _act(request, state, campaign_id, act, check_approver)
