"""Datacenters: sites with the IANA timezone their windows are expressed in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.crud import ERRORS
from api.crud_routes import PlainResource, add_plain_routes
from domain.campaign_spec import check_timezone
from store.models import Datacenter

router = APIRouter(prefix="/datacenters", tags=["datacenters"], responses=ERRORS)

Timezone = Annotated[
    str, Field(max_length=64, examples=["Europe/Amsterdam"]), AfterValidator(check_timezone)
]
Name = Annotated[str, Field(min_length=1, max_length=128, examples=["ams1"])]


class DatacenterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    timezone: Timezone


class DatacenterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    timezone: Timezone | None = None


class DatacenterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    timezone: str
    created_at: datetime


add_plain_routes(
    router,
    PlainResource(
        noun="datacenter",
        model=Datacenter,
        out=DatacenterOut,
        create=DatacenterCreate,
        update=DatacenterUpdate,
        text_filters={"name": 128},
    ),
)
