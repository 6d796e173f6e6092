"""Remediation: campaigns created from a baseline, and their dry run.

The hosts and packages come from a fresh evaluation (domain/remediation.py): one campaign
per SystemID, each an ordinary campaign created through the campaign endpoint's own code.
The dry run (``.../remediation/plan``) changes nothing; it returns what would be created,
per host the packages in install order, and which packages the repository still lacks.
Durations and window fit come from the campaign planner (``idrac-orch baseline remediate
--dry-run`` runs it on exactly these campaign specs).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from api.campaign_schemas import CampaignCreate, CampaignOut
from api.crud import ERRORS, NOT_FOUND, Id, RefId, get_or_404, invalid
from api.deps import SessionDep
from api.routes.campaigns import create_campaign
from api.security import Operator, Principal, Viewer
from domain.baseline import BaselineFilters, ScopeName
from domain.campaign_spec import (
    MAX_HOSTS,
    CampaignSpec,
    FirmwareTarget,
    Policy,
    Targets,
    no_repeats,
    positions,
)
from domain.compliance import HostCompliance
from domain.remediation import Group, HostPlan, Skipped, plan_remediation
from store.baselines import Baseline
from store.compliance import evaluate
from store.models import FirmwarePackage

router = APIRouter(prefix="/baselines", tags=["remediation"], responses=ERRORS)


class RemediationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Campaign name; default: 'remediate <baseline>'"
    )
    hosts: list[ScopeName] | None = Field(
        default=None,
        max_length=MAX_HOSTS,
        description="ESXi host names or service tags in the baseline's scope; "
        "omitted: every host off the baseline",
    )
    window_ids: list[RefId] = Field(default_factory=list, max_length=50)
    policy: Policy = Field(default_factory=Policy)

    @field_validator("hosts")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else no_repeats(value, "listed more than once")


class FirmwareDraft(BaseModel):
    component_id: str
    version: str
    package_id: int | None = Field(description="the repository's package; None: missing")
    catalog_seq: int = Field(description="the catalog entry (its position in the catalog)")
    catalog_path: str


class CampaignDraft(BaseModel):
    """One campaign remediation would create: the hosts of one SystemID."""

    name: str
    system_id: str
    service_tags: list[str]
    firmware: list[FirmwareDraft]
    window_ids: list[int]
    policy: Policy
    hosts: list[HostPlan]
    missing_packages: list[str]


class RemediationPlan(BaseModel):
    baseline_id: int
    campaigns: list[CampaignDraft]
    skipped: list[Skipped]


class RemediationCreated(BaseModel):
    campaigns: list[CampaignOut]
    skipped: list[Skipped]


def _selection(hosts: list[HostCompliance], wanted: list[str] | None) -> None:
    """Every named host must be in the baseline's scope."""
    if wanted is None:
        return
    known = {name for h in hosts for name in (h.name, h.service_tag)}
    missing = [i for i, name in enumerate(wanted) if name not in known]
    if missing:
        raise invalid("hosts", f"not in the baseline's scope at {positions(missing)}")


def _packages(session: Session, group: Group) -> list[FirmwareDraft]:
    drafts = []
    for target in group.targets:
        package_id = session.exec(
            select(FirmwarePackage.id).where(
                FirmwarePackage.component_id == target.component_id,
                FirmwarePackage.version == target.version,
            )
        ).first()
        drafts.append(
            FirmwareDraft(
                component_id=target.component_id,
                version=target.version,
                package_id=package_id,
                catalog_seq=target.catalog_seq,
                catalog_path=target.catalog_path,
            )
        )
    return drafts


def remediation_plan(
    session: Session, baseline_id: int, body: RemediationRequest
) -> RemediationPlan:
    """What remediation would create now: evaluated afresh, packages looked up."""
    baseline = get_or_404(session, Baseline, baseline_id)
    hosts = evaluate(session, baseline)
    _selection(hosts, body.hosts)
    allow = BaselineFilters.model_validate(baseline.filters).allow_downgrade
    remediation = plan_remediation(hosts, allow, body.hosts)
    name = body.name or f"remediate {baseline.name}"
    drafts = []
    for group in remediation.groups:
        firmware = _packages(session, group)
        drafts.append(
            CampaignDraft(
                name=f"{name} [{group.system_id}]"[:128],
                system_id=group.system_id,
                service_tags=[h.service_tag for h in group.hosts],
                firmware=firmware,
                window_ids=body.window_ids,
                policy=body.policy,
                hosts=group.hosts,
                missing_packages=[
                    f"{f.component_id} {f.version} ({f.catalog_path})"
                    for f in firmware
                    if f.package_id is None
                ],
            )
        )
    return RemediationPlan(baseline_id=baseline_id, campaigns=drafts, skipped=remediation.skipped)


@router.post(
    "/{baseline_id}/remediation/plan",
    response_model=RemediationPlan,
    responses=NOT_FOUND,
    summary="Dry run: the campaigns remediation would create, per host packages and order",
)
def plan_baseline_remediation(
    baseline_id: Id, body: RemediationRequest, session: SessionDep, _: Viewer
) -> RemediationPlan:
    return remediation_plan(session, baseline_id, body)


def _campaign(draft: CampaignDraft) -> CampaignCreate:
    try:
        spec = CampaignSpec(
            targets=Targets(service_tags=draft.service_tags),
            firmware=[
                FirmwareTarget(
                    component_id=f.component_id, version=f.version, package_id=f.package_id or 0
                )
                for f in draft.firmware
            ],
            policy=draft.policy,
        )
    except ValidationError as exc:
        raise invalid("hosts", "; ".join(e["msg"] for e in exc.errors())) from None
    return CampaignCreate(name=draft.name, spec=spec, window_ids=draft.window_ids)


@router.post(
    "/{baseline_id}/remediation",
    response_model=RemediationCreated,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
    summary="Create the campaigns that bring the baseline's hosts to it (not started)",
)
def remediate_baseline(
    baseline_id: Id, body: RemediationRequest, session: SessionDep, principal: Operator
) -> RemediationCreated:
    plan = remediation_plan(session, baseline_id, body)
    if not plan.campaigns:
        raise invalid("hosts", "no host needs remediation: " + _reasons(plan.skipped))
    missing = [m for draft in plan.campaigns for m in draft.missing_packages]
    if missing:
        raise invalid(
            "packages",
            "not in the package repository: "
            + "; ".join(missing)
            + ". Upload them (POST /packages) or fetch them from the catalog, then retry",
        )
    drafts = [_campaign(draft) for draft in plan.campaigns]
    created = [_create(draft, session, principal) for draft in drafts]
    return RemediationCreated(campaigns=created, skipped=plan.skipped)


def _create(body: CampaignCreate, session: Session, principal: Principal) -> CampaignOut:
    return CampaignOut.model_validate(create_campaign(body, session, principal))


def _reasons(skipped: list[Skipped]) -> str:
    shown = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:5])
    return shown + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "") or "no hosts"
