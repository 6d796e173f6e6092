"""Baselines: a catalog plus a scope and filters, the firmware a set of hosts should run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Offset,
    Page,
    RefId,
    apply,
    check_refs,
    delete,
    get_or_404,
    page_of,
    save,
)
from api.deps import SessionDep
from api.name_refs import check_names
from api.security import Admin, Viewer
from domain.baseline import BaselineFilters, BaselineScope
from store.baselines import Baseline
from store.catalog import Catalog
from store.compliance import forget
from store.models import Cluster, Datacenter, Server, utcnow

router = APIRouter(prefix="/baselines", tags=["baselines"], responses=ERRORS)
Name = Annotated[str, Field(min_length=1, max_length=128, examples=["prod-2026-q4"])]
Description = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


class BaselineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    description: Description | None = None
    catalog_id: RefId
    scope: BaselineScope = Field(default_factory=BaselineScope)
    filters: BaselineFilters = Field(default_factory=BaselineFilters)


class BaselineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    description: Description | None = None
    catalog_id: RefId | None = None
    scope: BaselineScope | None = None
    filters: BaselineFilters | None = None


class BaselineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    catalog_id: int
    scope: BaselineScope
    filters: BaselineFilters
    created_by: str
    created_at: datetime
    updated_at: datetime


def _check(session: Session, catalog_id: int | None, scope: BaselineScope | None) -> None:
    """The catalog and every name in the scope must exist (422 naming the field)."""
    check_refs(session, {"catalog_id": (Catalog, catalog_id)})
    if scope is None:
        return
    for field, columns, values in (
        ("datacenters", [Datacenter.name], scope.datacenters),
        ("clusters", [Cluster.name], scope.clusters),
        ("hosts", [Server.esxi_host, Server.service_tag], scope.hosts),
    ):
        check_names(session, field, columns, values, "body.scope")


@router.post(
    "", response_model=BaselineOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT
)
def create_baseline(body: BaselineCreate, session: SessionDep, principal: Admin) -> Baseline:
    _check(session, body.catalog_id, body.scope)
    row = Baseline(
        **body.model_dump(exclude={"scope", "filters"}),
        scope=body.scope.model_dump(mode="json"),
        filters=body.filters.model_dump(mode="json"),
        created_by=principal.name,
    )
    return save(session, row)


@router.get("", response_model=Page[BaselineOut])
def list_baselines(
    session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    return page_of(session, select(Baseline).order_by(col(Baseline.id)), limit, offset)


@router.get("/{baseline_id}", response_model=BaselineOut, responses=NOT_FOUND)
def get_baseline(baseline_id: Id, session: SessionDep, _: Viewer) -> Baseline:
    return get_or_404(session, Baseline, baseline_id)


@router.patch("/{baseline_id}", response_model=BaselineOut, responses={**NOT_FOUND, **CONFLICT})
def update_baseline(
    baseline_id: Id, body: BaselineUpdate, session: SessionDep, _: Admin
) -> Baseline:
    """Later evaluations use the new definition; earlier ones stay as they were."""
    row = get_or_404(session, Baseline, baseline_id)
    _check(session, body.catalog_id, body.scope)
    apply(row, body)
    for field in ("scope", "filters"):
        value = getattr(body, field)
        if value is not None:
            setattr(row, field, value.model_dump(mode="json"))
    row.updated_at = utcnow()
    return save(session, row)


@router.delete(
    "/{baseline_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_baseline(baseline_id: Id, session: SessionDep, _: Admin) -> None:
    """With its compliance history."""
    row = get_or_404(session, Baseline, baseline_id)
    forget(session, baseline_id)
    delete(session, row)
