"""Compliance pages and remediation: a baseline's cluster x component grid, evaluating it,
the remediation dry run, and creating its campaigns. Each calls the API's own route
function, so roles, validation, errors and audit are the API's."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.crud import Id
from api.deps import StateDep
from api.routes import compliance, remediation
from api.routes.baselines import get_baseline
from api.security import Principal
from api.state import AppState
from console import compliance_view
from console.actions import operator_action
from console.guard import viewer
from console.render import error_page, page

router = APIRouter(prefix="/ui/baselines", include_in_schema=False)
CampaignName = Annotated[str | None, Query(max_length=100)]


def _request(name: str | None) -> remediation.RemediationRequest:
    """The dry run's and the creation's body: every host off the baseline, default policy."""
    try:
        return remediation.RemediationRequest(name=(name or "").strip() or None)
    except ValidationError:
        raise HTTPException(422, detail="the campaign name is 1 to 100 characters") from None


def _grid_view(state: AppState, principal: Principal, baseline_id: int) -> dict[str, Any]:
    with Session(state.engine) as session:
        baseline = get_baseline(baseline_id, session, principal)  # 404 when it does not exist
        try:
            report = compliance.read_compliance(baseline_id, session, principal)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return {"baseline": baseline, "report": None, "grid": None}
    return {"baseline": baseline, "report": report, "grid": compliance_view.grid(report.hosts)}


@router.get("/{baseline_id}", response_class=HTMLResponse, name="console_baseline")
async def baseline_page(baseline_id: Id, request: Request, state: StateDep) -> Response:
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    try:
        view = await anyio.to_thread.run_sync(_grid_view, state, principal, baseline_id)
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    return page(request, state, "baseline.html", principal, marks=compliance_view.MARKS, **view)


@router.post("/{baseline_id}/evaluate", name="console_evaluate_baseline")
async def evaluate(baseline_id: Id, request: Request, state: StateDep) -> Response:
    async def act(principal: Principal, _: dict[str, str]) -> object:
        with Session(state.engine) as session:
            return await compliance.evaluate_baseline(baseline_id, session, state, principal)

    return await operator_action(request, state, f"/ui/baselines/{baseline_id}", act)


def _plan(
    state: AppState, principal: Principal, baseline_id: int, name: str | None
) -> dict[str, Any]:
    body = _request(name)
    with Session(state.engine) as session:
        baseline = get_baseline(baseline_id, session, principal)
        plan = remediation.plan_baseline_remediation(baseline_id, body, session, principal)
    return {"baseline": baseline, "plan": plan, "campaign_name": body.name or ""}


@router.get("/{baseline_id}/plan", response_class=HTMLResponse, name="console_remediation_plan")
async def plan_page(
    baseline_id: Id, request: Request, state: StateDep, name: CampaignName = None
) -> Response:
    """The dry run: nothing changes; what creating would do, shown before the button."""
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    try:
        view = await anyio.to_thread.run_sync(_plan, state, principal, baseline_id, name)
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    return page(
        request, state, "remediation.html", principal, reboots=compliance_view.reboots, **view
    )


@router.post("/{baseline_id}/remediation", name="console_remediate_baseline")
async def remediate(baseline_id: Id, request: Request, state: StateDep) -> Response:
    """Create the campaigns (not started); to the campaign, or the list when several."""

    def create(principal: Principal, name: str | None) -> str:
        with Session(state.engine) as session:
            made = remediation.remediate_baseline(baseline_id, _request(name), session, principal)
        ids = [c.id for c in made.campaigns]
        return f"/ui/campaigns/{ids[0]}" if len(ids) == 1 else "/ui/campaigns"

    async def act(principal: Principal, form: dict[str, str]) -> object:
        return await anyio.to_thread.run_sync(create, principal, form.get("name"))

    return await operator_action(request, state, "/ui/campaigns", act)
