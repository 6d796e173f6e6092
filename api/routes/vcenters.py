"""vCenter Servers and the credential profile each one logs in with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.crud import ERRORS, RefId
from api.crud_routes import PlainResource, add_plain_routes
from domain.addresses import check_https_url
from store.models import CredentialProfile, Datacenter, Vcenter

router = APIRouter(prefix="/vcenters", tags=["vcenters"], responses=ERRORS)

Name = Annotated[str, Field(min_length=1, max_length=128, examples=["vc-ams1"])]
Address = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        examples=["https://vc-ams1.example.test/sdk"],
        description="https URL of the vCenter SDK; a bare host name means https://host/sdk",
    ),
    AfterValidator(check_https_url),
]


class VcenterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    address: Address
    datacenter_id: RefId | None = None
    credential_profile_id: RefId | None = None


class VcenterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    address: Address | None = None
    datacenter_id: RefId | None = None
    credential_profile_id: RefId | None = None


class VcenterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    address: str
    datacenter_id: int | None
    credential_profile_id: int | None
    created_at: datetime


add_plain_routes(
    router,
    PlainResource(
        noun="vcenter",
        model=Vcenter,
        out=VcenterOut,
        create=VcenterCreate,
        update=VcenterUpdate,
        refs=lambda body: {
            "datacenter_id": (Datacenter, body.datacenter_id),
            "credential_profile_id": (CredentialProfile, body.credential_profile_id),
        },
        id_filters=("datacenter_id",),
    ),
)
