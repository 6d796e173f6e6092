"""The packages a baseline's remediation needs, fetched on demand from the catalog's
location into the package repository, each checked against the catalog's hash."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.crud import CONFLICT, ERRORS, NOT_FOUND, Id, Message, get_or_404, invalid
from api.deps import SessionDep, StateDep
from api.package_repository import MAX_PACKAGE_BYTES, keep, partial_path
from api.routes.packages import PackageOut, package_out
from api.routes.remediation import FirmwareDraft, RemediationRequest, remediation_plan
from api.security import Admin
from domain.baseline import ScopeName
from domain.campaign_spec import MAX_HOSTS
from integrations.catalog.packages import PackageFetchError, catalog_base, fetch, package_url
from store.baselines import Baseline
from store.catalog import Catalog, CatalogComponentRow
from store.models import FirmwarePackage

router = APIRouter(prefix="/baselines", tags=["packages"], responses=ERRORS)
UPSTREAM: dict[int | str, dict[str, object]] = {
    502: {"model": Message, "description": "the package could not be fetched, or its hash differs"}
}


class FetchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\x00\s]+$")] | None = (
        Field(default=None, description="a mirror to fetch from instead of the catalog's location")
    )
    hosts: list[ScopeName] | None = Field(default=None, max_length=MAX_HOSTS)


class Fetched(BaseModel):
    component_id: str
    version: str
    outcome: Literal["fetched", "present"]
    package: PackageOut


class FetchResult(BaseModel):
    packages: list[Fetched]


def _base(session: Session, catalog_id: int, body: FetchRequest) -> str:
    if body.base_url:
        return body.base_url
    catalog = get_or_404(session, Catalog, catalog_id)
    base = catalog_base(catalog.source, catalog.base_location, catalog.base_location_protocols)
    if base is None:
        raise invalid("base_url", f"catalog {catalog_id} names no location; give base_url")
    return base


@router.post(
    "/{baseline_id}/packages",
    response_model=FetchResult,
    responses={**NOT_FOUND, **CONFLICT, **UPSTREAM},
    summary="Fetch the packages the baseline's remediation needs into the repository",
)
def fetch_baseline_packages(
    baseline_id: Id, body: FetchRequest, session: SessionDep, state: StateDep, _: Admin
) -> FetchResult:
    """Only what the repository lacks is downloaded; a download whose hash differs from the
    catalog's is a 502 and nothing of it is kept."""
    baseline = get_or_404(session, Baseline, baseline_id)
    plan = remediation_plan(session, baseline_id, RemediationRequest(hosts=body.hosts))
    root = state.settings.effective_package_dir
    base: str | None = None
    results = []
    for draft in plan.campaigns:
        for item in draft.firmware:
            row = session.get(CatalogComponentRow, (baseline.catalog_id, item.catalog_seq))
            assert row is not None  # the plan was made from this very catalog
            if item.package_id is not None:
                present = get_or_404(session, FirmwarePackage, item.package_id)
                if present.file_name:
                    results.append(_result(item, "present", present))
                    continue
            base = base or _base(session, baseline.catalog_id, body)
            try:
                got = fetch(
                    package_url(base, row.path),
                    partial_path(root),
                    row.hash_sha256,
                    row.hash_md5,
                    MAX_PACKAGE_BYTES,
                )
            except PackageFetchError as exc:
                raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from None
            kept = keep(session, root, row, got)
            results.append(_result(item, "fetched", kept))
    return FetchResult(packages=results)


def _result(
    item: FirmwareDraft, outcome: Literal["fetched", "present"], row: FirmwarePackage
) -> Fetched:
    return Fetched(
        component_id=item.component_id,
        version=item.version,
        outcome=outcome,
        package=package_out(row),
    )
