"""Notification channels: signed webhooks, SMTP e-mail, chat through Apprise.

The secret (HMAC key, SMTP password, Apprise URL) is write-only like a credential
profile's password: sealed at once, never returned; ``has_secret`` says whether one is set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from sqlmodel import col, select

from api.crud import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    Id,
    Limit,
    Offset,
    Page,
    delete,
    get_or_404,
    invalid,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.routes.credentials import NO_KEY
from api.routes.credentials import _box as secret_box
from api.security import Admin, Viewer
from domain.notifications import ChannelKind
from domain.notify_channels import (
    CONFIGS,
    AppriseConfig,
    EmailConfig,
    ServiceNowConfig,
    WebhookConfig,
)
from integrations.notify.chat import understood
from store.notifications import NotificationChannel
from store.notify_outbox import seal_channel_secret

MIN_HMAC_KEY = 16
router = APIRouter(prefix="/notifications/channels", tags=["notifications"], responses=ERRORS)
Name = Annotated[str, Field(min_length=1, max_length=128, examples=["ops-webhook"])]
Secret = Annotated[
    SecretStr, Field(min_length=1, max_length=2000, json_schema_extra={"writeOnly": True})
]


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    enabled: bool = True


class WebhookCreate(_Create):
    kind: Literal[ChannelKind.WEBHOOK]
    config: WebhookConfig
    secret: Secret = Field(
        description=f"HMAC-SHA256 signing key the receiver verifies with "
        f"(at least {MIN_HMAC_KEY} characters)."
    )


class EmailCreate(_Create):
    kind: Literal[ChannelKind.EMAIL]
    config: EmailConfig
    secret: Secret | None = Field(default=None, description="SMTP password (with username).")


class AppriseCreate(_Create):
    kind: Literal[ChannelKind.APPRISE]
    config: AppriseConfig = Field(default_factory=AppriseConfig)
    secret: Secret = Field(description="The Apprise URL, e.g. slack://... or json://host/path.")


class ServiceNowCreate(_Create):
    kind: Literal[ChannelKind.SERVICENOW]
    config: ServiceNowConfig
    secret: Secret = Field(
        description="The password of config.username, or an OAuth bearer token without one."
    )


ChannelCreate = Annotated[
    WebhookCreate | EmailCreate | AppriseCreate | ServiceNowCreate, Field(discriminator="kind")
]


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = Field(default=None, description="Replaces the whole config.")
    secret: Secret | None = None


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: ChannelKind
    config: dict[str, Any]
    enabled: bool
    has_secret: bool
    key_id: str | None = Field(description="Which encryption key seals the secret (not the key).")
    created_at: datetime
    updated_at: datetime


def _out(channel: NotificationChannel) -> ChannelOut:
    return ChannelOut.model_validate(
        {**channel.model_dump(), "has_secret": channel.secret_ciphertext is not None}
    )


def _checked_secret(kind: ChannelKind, secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value()
    if kind is ChannelKind.WEBHOOK and len(value) < MIN_HMAC_KEY:
        raise invalid("secret", f"an HMAC key needs at least {MIN_HMAC_KEY} characters")
    if kind is ChannelKind.APPRISE and not understood(value):
        raise invalid("secret", "not a URL Apprise understands (see its list of services)")
    return value


def _config(kind: ChannelKind, raw: dict[str, Any]) -> dict[str, Any]:
    """The config validated for the channel's kind; errors named as ``body.config.<field>``."""
    try:
        return CONFIGS[kind].model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        detail = [
            {"loc": ["body", "config", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None


@router.get("", response_model=Page[ChannelOut])
def list_channels(
    session: SessionDep, _: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[ChannelOut]:
    statement = select(NotificationChannel).order_by(col(NotificationChannel.id))
    items, total = paginate(session, statement, limit, offset)
    return Page(items=[_out(i) for i in items], total=total, limit=limit, offset=offset)


@router.post(
    "",
    response_model=ChannelOut,
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **NO_KEY},
)
def create_channel(
    body: ChannelCreate, session: SessionDep, state: StateDep, _: Admin
) -> ChannelOut:
    box = secret_box(state)
    channel = NotificationChannel(
        name=body.name,
        kind=body.kind.value,
        enabled=body.enabled,
        config=body.config.model_dump(mode="json"),
    )
    seal_channel_secret(channel, box, _checked_secret(body.kind, body.secret))
    return _out(save(session, channel))


@router.get("/{channel_id}", response_model=ChannelOut, responses=NOT_FOUND)
def get_channel(channel_id: Id, session: SessionDep, _: Viewer) -> ChannelOut:
    return _out(get_or_404(session, NotificationChannel, channel_id))


@router.patch(
    "/{channel_id}", response_model=ChannelOut, responses={**NOT_FOUND, **CONFLICT, **NO_KEY}
)
def update_channel(
    channel_id: Id, body: ChannelUpdate, session: SessionDep, state: StateDep, _: Admin
) -> ChannelOut:
    channel = get_or_404(session, NotificationChannel, channel_id)
    kind = ChannelKind(channel.kind)
    for field in body.model_fields_set:
        if getattr(body, field) is None:
            raise invalid(field, "may not be null")
    if body.name is not None:
        channel.name = body.name
    if body.enabled is not None:
        channel.enabled = body.enabled
    if body.config is not None:
        channel.config = _config(kind, body.config)
    if body.secret is not None:
        seal_channel_secret(channel, secret_box(state), _checked_secret(kind, body.secret))
    return _out(save(session, channel))


@router.delete(
    "/{channel_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
def delete_channel(channel_id: Id, session: SessionDep, _: Admin) -> None:
    """Refused (409) while rules or deliveries refer to it: disable it instead."""
    delete(session, get_or_404(session, NotificationChannel, channel_id))
