"""vSphere clusters: the unit a campaign rolls through."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.crud import ERRORS, RefId
from api.crud_routes import PlainResource, add_plain_routes
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


add_plain_routes(
    router,
    PlainResource(
        noun="cluster",
        model=Cluster,
        out=ClusterOut,
        create=ClusterCreate,
        update=ClusterUpdate,
        refs=lambda body: {"vcenter_id": (Vcenter, body.vcenter_id)},
        id_filters=("vcenter_id",),
        text_filters={"name": 128},
    ),
)
