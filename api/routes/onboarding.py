"""Onboarding validation: start it (OnboardingValidationWorkflow), follow it, read the
per-server report as JSON or CSV."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.crud import ERRORS, NOT_FOUND
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer
from api.workflow_start import TEMPORAL_DOWN, start_workflow
from domain.onboarding import (
    VALIDATION_WORKFLOW,
    CheckResult,
    ValidationRequest,
    ValidationSummary,
    report_csv,
)
from store.validation import report

router = APIRouter(prefix="/onboarding", tags=["onboarding"], responses=ERRORS)
PREFIX = "onboarding-validation-"
WorkflowId = Annotated[str, Path(pattern=rf"^{PREFIX}[0-9a-f]{{32}}$")]


class ValidationStarted(BaseModel):
    workflow_id: str


class ValidationState(BaseModel):
    workflow_id: str
    status: str = Field(examples=["COMPLETED"], description="Temporal's execution status")
    summary: ValidationSummary | None = Field(description="set once completed")


class ReportRow(BaseModel):
    enrollment_id: int
    address: str
    service_tag: str | None
    server_id: int | None
    status: Literal["passed", "failed", "not-validated"]
    reason: str | None = Field(description="every failed check; campaigns skip the server")
    validated_at: datetime | None
    checks: list[CheckResult] = Field(
        description="every check: state pass, warn or unknown keeps the server in campaigns"
    )


@router.post(
    "/validations",
    response_model=ValidationStarted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=TEMPORAL_DOWN,
    summary="Validate enrollments (all by default): read each iDRAC, link its server",
)
async def start_validation(body: ValidationRequest, state: StateDep, _: Admin) -> ValidationStarted:
    workflow_id = f"{PREFIX}{uuid.uuid4().hex}"
    await start_workflow(state, VALIDATION_WORKFLOW, body, workflow_id)
    return ValidationStarted(workflow_id=workflow_id)


@router.get(
    "/validations/{workflow_id}",
    response_model=ValidationState,
    responses={**NOT_FOUND, **TEMPORAL_DOWN},
)
async def validation_state(workflow_id: WorkflowId, state: StateDep, _: Viewer) -> ValidationState:
    try:
        client = await state.temporal_client()
        handle = client.get_workflow_handle(workflow_id, result_type=ValidationSummary)
        described = await handle.describe()
        summary = None
        if described.status is WorkflowExecutionStatus.COMPLETED:
            summary = await handle.result()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"validation {workflow_id} does not exist"
            ) from None
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.message) from None
    except (OSError, TimeoutError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"Temporal unreachable: {type(exc).__name__}",
        ) from None
    name = described.status.name if described.status else "UNKNOWN"
    return ValidationState(workflow_id=workflow_id, status=name, summary=summary)


@router.get(
    "/report",
    response_model=list[ReportRow],
    responses={200: {"content": {"text/csv": {}}}},
    summary="Per enrolled iDRAC: reachable, TLS, credentials, Redfish, iDRAC, license, LC, "
    "jobs, inventory, ESXi host",
)
def onboarding_report(
    session: SessionDep,
    _: Viewer,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    rows = report(session)
    if format == "csv":
        return Response(report_csv(rows), media_type="text/csv")
    return rows
