"""vSphere clusters: the unit a campaign rolls through."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    IdFilter,
    Limit,
    Offset,
    Page,
    RefId,
    apply,
    check_refs,
    delete,
    get_or_404,
    paginate,
    save,
    text_filter,
)
from api.deps import SessionDep
from api.security import Admin, Viewer
from store.models import Cluster, Vcenter

router = APIRouter(prefix="/clusters", tags=["clusters"], responses=ERRORS)

Name = Annotated[str, Field(min_length=1, max_length=128, examples=["prod-a"])]


class ClusterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    vcenter_id: RefId


class ClusterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    vcenter_id: RefId | None = None


class ClusterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    vcenter_id: int
    created_at: datetime


@router.get("", response_model=Page[ClusterOut])
def list_clusters(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    vcenter_id: IdFilter = None,
    name: Annotated[str | None, text_filter(128)] = None,
) -> Page[ClusterOut]:
    statement = select(Cluster).order_by(col(Cluster.id))
    if vcenter_id is not None:
        statement = statement.where(Cluster.vcenter_id == vcenter_id)
    if name is not None:
        statement = statement.where(Cluster.name == name)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[ClusterOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=ClusterOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_cluster(body: ClusterCreate, session: SessionDep, _: Admin) -> Cluster:
    check_refs(session, {"vcenter_id": (Vcenter, body.vcenter_id)})
    return save(session, Cluster(**body.model_dump()))


@router.get("/{cluster_id}", response_model=ClusterOut, responses=NOT_FOUND)
def get_cluster(cluster_id: Id, session: SessionDep, _: Viewer) -> Cluster:
    return get_or_404(session, Cluster, cluster_id)


@router.patch("/{cluster_id}", response_model=ClusterOut, responses={**NOT_FOUND, **CONFLICT})
def update_cluster(cluster_id: Id, body: ClusterUpdate, session: SessionDep, _: Admin) -> Cluster:
    row = get_or_404(session, Cluster, cluster_id)
    check_refs(session, {"vcenter_id": (Vcenter, body.vcenter_id)})
    apply(row, body)
    return save(session, row)


@router.delete(
    "/{cluster_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_cluster(cluster_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, Cluster, cluster_id))
