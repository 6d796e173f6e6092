"""Compliance pages and remediation: a baseline's cluster x component grid, evaluating it,
the remediation dry run, and creating its campaigns. Each calls the API's own route
function, so roles, validation, errors and audit are the API's."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.crud import Id
from api.deps import StateDep
from api.routes import compliance, remediation
from api.routes.baselines import get_baseline
from api.routes.windows import list_windows
from api.security import Principal
from api.state import AppState
from console import compliance_view
from console.actions import operator_action
from console.guard import viewer
from console.remediation_form import FormErrors, RemediationForm
from console.render import error_page, page

router = APIRouter(prefix="/ui/baselines", include_in_schema=False)
WINDOWS_LISTED = 100


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
    state: AppState, principal: Principal, baseline_id: int, form: RemediationForm
) -> dict[str, Any]:
    """The API's dry run for what the form says; a refused form comes back with its errors
    (and no plan), as typed."""
    with Session(state.engine) as session:
        baseline = get_baseline(baseline_id, session, principal)
        windows = list_windows(session, principal, limit=WINDOWS_LISTED, offset=0).items
        view = {"baseline": baseline, "form": form, "windows": windows, "errors": [], "plan": None}
        try:
            body = form.request()
        except FormErrors as errors:
            return {**view, "errors": errors.messages}
        plan = remediation.plan_baseline_remediation(baseline_id, body, session, principal)
    names = {w.id: w.name for w in windows}
    chosen = [names.get(i, f"window {i}") for i in body.window_ids]
    return {**view, "plan": plan, "policy": body.policy, "chosen_windows": chosen}


@router.get("/{baseline_id}/plan", response_class=HTMLResponse, name="console_remediation_plan")
async def plan_page(baseline_id: Id, request: Request, state: StateDep) -> Response:
    """The dry run: nothing changes; what creating would do, shown before the button."""
    principal = viewer(request, state)
    if isinstance(principal, RedirectResponse):
        return principal
    query = request.query_params
    form = RemediationForm.read(dict(query), query.getlist("window_ids"))
    try:
        view = await anyio.to_thread.run_sync(_plan, state, principal, baseline_id, form)
    except HTTPException as exc:
        return error_page(request, state, principal, exc.status_code, str(exc.detail))
    return page(
        request,
        state,
        "remediation.html",
        principal,
        status_code=422 if view["errors"] else 200,
        reboots=compliance_view.reboots,
        **view,
    )


@router.post("/{baseline_id}/remediation", name="console_remediate_baseline")
async def remediate(baseline_id: Id, request: Request, state: StateDep) -> Response:
    """Create the campaigns (not started); to the campaign, or the list when several."""

    def create(principal: Principal, form: RemediationForm) -> str:
        try:
            body = form.request()
        except FormErrors as errors:
            raise HTTPException(422, detail="; ".join(errors.messages)) from None
        with Session(state.engine) as session:
            made = remediation.remediate_baseline(baseline_id, body, session, principal)
        ids = [c.id for c in made.campaigns]
        return f"/ui/campaigns/{ids[0]}" if len(ids) == 1 else "/ui/campaigns"

    async def act(principal: Principal, fields: dict[str, str]) -> object:
        # The dry run's choices, carried as one comma-separated field of window ids.
        windows = (fields.get("window_ids") or "").split(",")
        return await anyio.to_thread.run_sync(
            create, principal, RemediationForm.read(fields, windows)
        )

    return await operator_action(request, state, "/ui/campaigns", act)
