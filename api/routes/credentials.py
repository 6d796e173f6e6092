"""Credential profiles: global, datacenter, IP range and host-override scopes, for iDRAC
logins and (as their own hierarchy) vCenter logins.

The password is write-only: accepted on create/update, sealed at once, never returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from sqlmodel import col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Message,
    Offset,
    Page,
    RefId,
    check_refs,
    delete,
    get_or_404,
    invalid,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.security import Admin, Viewer
from domain.credential_scope import LoginFor, Scope, normalize_cidr, scope_key
from store.credentials import set_secret
from store.crypto import SecretBox, SecretKeyMissingError
from store.models import CredentialProfile, Datacenter, Server

router = APIRouter(prefix="/credential-profiles", tags=["credentials"], responses=ERRORS)
NO_KEY: dict[int | str, dict[str, Any]] = {
    503: {"model": Message, "description": "IDRAC_ORCH_SECRET_KEY is not configured"}
}

Name = Annotated[str, Field(min_length=1, max_length=128, examples=["idrac-default"])]
Username = Annotated[str, Field(min_length=1, max_length=128, examples=["root"])]
Password = Annotated[
    SecretStr,
    Field(min_length=1, max_length=256, json_schema_extra={"writeOnly": True}),
]
_SCOPE_FIELDS = {
    Scope.GLOBAL: set(),
    Scope.DATACENTER: {"datacenter_id"},
    Scope.CIDR: {"cidr"},
    Scope.HOST: {"server_id"},
}


class ProfileCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    login_for: LoginFor = Field(
        default=LoginFor.IDRAC, description="whose login: iDRACs' or vCenters' (own hierarchy)"
    )
    scope: Scope
    datacenter_id: RefId | None = Field(default=None, description="scope=datacenter only")
    cidr: Annotated[str, Field(max_length=64, examples=["10.10.0.0/16"])] | None = Field(
        default=None, description="scope=cidr only"
    )
    server_id: RefId | None = Field(default=None, description="scope=host only")
    username: Username
    password: Password

    @model_validator(mode="after")
    def _scope_fields(self) -> ProfileCreate:
        if self.login_for is LoginFor.VCENTER and self.scope is Scope.HOST:
            raise ValueError(
                "scope: host overrides are for iDRACs; choose the profile on the vCenter instead"
            )
        needed = _SCOPE_FIELDS[self.scope]
        for field in ("datacenter_id", "cidr", "server_id"):
            present = getattr(self, field) is not None
            if field in needed and not present:
                raise ValueError(f"{field} is required when scope is {self.scope.value}")
            if field not in needed and present:
                raise ValueError(f"{field} is not allowed when scope is {self.scope.value}")
        if self.cidr is not None:
            try:
                object.__setattr__(self, "cidr", normalize_cidr(self.cidr))
            except ValueError:
                # ipaddress's own message repeats the value; say what is wrong instead.
                raise ValueError(
                    "cidr: not a network in CIDR form without host bits (e.g. 10.1.0.0/16)"
                ) from None
        return self


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    username: Username | None = None
    password: Password | None = None


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    login_for: str
    scope: str
    datacenter_id: int | None
    cidr: str | None
    server_id: int | None
    username: str
    key_id: str = Field(description="Which encryption key seals the secret (not the key).")
    created_at: datetime
    updated_at: datetime


def _box(state: StateDep) -> SecretBox:
    try:
        return SecretBox.from_settings(state.settings)
    except SecretKeyMissingError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None


@router.get("", response_model=Page[ProfileOut])
def list_profiles(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    scope: Scope | None = None,
    login_for: LoginFor | None = None,
) -> Page[ProfileOut]:
    statement = select(CredentialProfile).order_by(col(CredentialProfile.id))
    if scope is not None:
        statement = statement.where(CredentialProfile.scope == scope.value)
    if login_for is not None:
        statement = statement.where(CredentialProfile.login_for == login_for.value)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[ProfileOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post(
    "",
    response_model=ProfileOut,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **NO_KEY},
)
def create_profile(
    body: ProfileCreate, session: SessionDep, state: StateDep, _: Admin
) -> CredentialProfile:
    box = _box(state)
    check_refs(
        session,
        {"datacenter_id": (Datacenter, body.datacenter_id), "server_id": (Server, body.server_id)},
    )
    key = scope_key(body.scope, body.datacenter_id, body.cidr, body.server_id, body.login_for)
    if session.exec(select(CredentialProfile).where(CredentialProfile.scope_key == key)).first():
        raise invalid("scope", f"a profile for {key} already exists; update it instead")
    profile = CredentialProfile(
        **body.model_dump(exclude={"password"}),
        scope_key=key,
        secret_ciphertext=b"",
        key_id="",
    )
    set_secret(profile, box, body.password.get_secret_value())
    return save(session, profile)


@router.get("/{profile_id}", response_model=ProfileOut, responses=NOT_FOUND)
def get_profile(profile_id: Id, session: SessionDep, _: Viewer) -> CredentialProfile:
    return get_or_404(session, CredentialProfile, profile_id)


@router.patch(
    "/{profile_id}", response_model=ProfileOut, responses={**NOT_FOUND, **CONFLICT, **NO_KEY}
)
def update_profile(
    profile_id: Id, body: ProfileUpdate, session: SessionDep, state: StateDep, _: Admin
) -> CredentialProfile:
    profile = get_or_404(session, CredentialProfile, profile_id)
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    for field, value in changes.items():
        if value is None:
            raise invalid(field, "may not be null")
        setattr(profile, field, value)
    if "password" in body.model_fields_set:
        if body.password is None:
            raise invalid("password", "may not be null")
        set_secret(profile, _box(state), body.password.get_secret_value())
    return save(session, profile)


@router.delete(
    "/{profile_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_profile(profile_id: Id, session: SessionDep, _: Admin) -> None:
    """Servers it opened forget it (the scope order decides for them again); a profile
    chosen for an enrollment or a vCenter blocks the delete."""
    profile = get_or_404(session, CredentialProfile, profile_id)
    for server in session.exec(select(Server).where(Server.credential_profile_id == profile_id)):
        server.credential_profile_id = None
        session.add(server)
    delete(session, profile)
