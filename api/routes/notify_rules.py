"""Notification rules (which events go to which channel, globally or for one campaign) and
the delivery log: every event and channel, sent, pending or failed with its last error."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

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
    check_refs,
    delete,
    get_or_404,
    invalid,
    not_found,
    paginate,
    save,
)
from api.deps import SessionDep, StateDep
from api.security import Admin, Operator, Viewer
from api.state import AppState
from api.workflow_start import TEMPORAL_DOWN, start_workflow
from domain.notifications import (
    PUBLISH_WORKFLOW,
    DeliveryStatus,
    EventKind,
    NotificationEvent,
    resend_workflow_id,
)
from domain.temporal_names import TaskQueue
from store.models import Campaign
from store.notifications import (
    NotificationChannel,
    NotificationDelivery,
    NotificationEventRow,
    NotificationRule,
)
from store.notify_outbox import NotFailedError, fail_requeued, requeue

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=ERRORS)


def _distinct(kinds: list[EventKind]) -> list[EventKind]:
    if len(set(kinds)) != len(kinds):
        raise ValueError("each event kind at most once")
    return kinds


Kinds = Annotated[
    list[EventKind],
    Field(max_length=len(EventKind), description="Event kinds it sends; empty: every kind."),
    AfterValidator(_distinct),
]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_id: RefId
    kinds: Kinds = Field(default_factory=list)
    campaign_id: RefId | None = Field(default=None, description="None: every campaign.")
    enabled: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: Kinds | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel_id: int
    kinds: list[EventKind]
    campaign_id: int | None
    enabled: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    id: int
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    channel_id: int
    channel_name: str
    event_key: str = Field(description="The event's idempotency key (Idempotency-Key header).")
    kind: EventKind
    campaign_id: int | None
    subject: str
    detail: str
    occurred_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@router.get("/rules", response_model=Page[RuleOut])
def list_rules(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    channel_id: IdFilter = None,
    campaign_id: IdFilter = None,
) -> Page[RuleOut]:
    statement = select(NotificationRule).order_by(col(NotificationRule.id))
    if channel_id is not None:
        statement = statement.where(NotificationRule.channel_id == channel_id)
    if campaign_id is not None:
        statement = statement.where(NotificationRule.campaign_id == campaign_id)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[RuleOut.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post(
    "/rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT
)
def create_rule(body: RuleCreate, session: SessionDep, _: Admin) -> NotificationRule:
    check_refs(
        session,
        {
            "channel_id": (NotificationChannel, body.channel_id),
            "campaign_id": (Campaign, body.campaign_id),
        },
    )
    return save(session, NotificationRule(**body.model_dump(mode="json")))


@router.get("/rules/{rule_id}", response_model=RuleOut, responses=NOT_FOUND)
def get_rule(rule_id: Id, session: SessionDep, _: Viewer) -> NotificationRule:
    return get_or_404(session, NotificationRule, rule_id)


@router.patch("/rules/{rule_id}", response_model=RuleOut, responses={**NOT_FOUND, **CONFLICT})
def update_rule(rule_id: Id, body: RuleUpdate, session: SessionDep, _: Admin) -> NotificationRule:
    rule = get_or_404(session, NotificationRule, rule_id)
    for field, value in body.model_dump(mode="json", exclude_unset=True).items():
        if value is None:
            raise invalid(field, "may not be null")
        setattr(rule, field, value)
    return save(session, rule)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_rule(rule_id: Id, session: SessionDep, _: Admin) -> None:
    delete(session, get_or_404(session, NotificationRule, rule_id))


def _delivery_rows() -> Any:
    return (
        select(NotificationDelivery, NotificationEventRow, NotificationChannel)
        .join(NotificationEventRow, col(NotificationEventRow.id) == NotificationDelivery.event_id)
        .join(NotificationChannel, col(NotificationChannel.id) == NotificationDelivery.channel_id)
    )


def _delivery_out(
    delivery: NotificationDelivery, event: NotificationEventRow, channel: NotificationChannel
) -> DeliveryOut:
    return DeliveryOut(
        **delivery.model_dump(exclude={"event_id", "created_at"}),
        channel_name=channel.name,
        event_key=event.key,
        kind=EventKind(event.kind),
        campaign_id=event.campaign_id,
        subject=event.subject,
        detail=event.detail,
        occurred_at=event.occurred_at,
    )


@router.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    session: SessionDep,
    _: Viewer,
    limit: Limit = 100,
    offset: Offset = 0,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel_id: IdFilter = None,
    campaign_id: IdFilter = None,
    kind: EventKind | None = None,
) -> Page[DeliveryOut]:
    """Newest first. ``status=failed`` lists what never reached its receiver."""
    statement = _delivery_rows().order_by(col(NotificationDelivery.id).desc())
    if delivery_status is not None:
        statement = statement.where(NotificationDelivery.status == delivery_status.value)
    if channel_id is not None:
        statement = statement.where(NotificationDelivery.channel_id == channel_id)
    if campaign_id is not None:
        statement = statement.where(NotificationEventRow.campaign_id == campaign_id)
    if kind is not None:
        statement = statement.where(NotificationEventRow.kind == kind.value)
    items, total = paginate(session, statement, limit, offset)
    return Page(
        items=[_delivery_out(*row) for row in items], total=total, limit=limit, offset=offset
    )


def _one_delivery(session: Session, delivery_id: int) -> DeliveryOut:
    row = session.exec(_delivery_rows().where(NotificationDelivery.id == delivery_id)).first()
    if row is None:
        raise not_found("notification delivery", delivery_id)
    return _delivery_out(*row)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, responses=NOT_FOUND)
def get_delivery(delivery_id: Id, session: SessionDep, _: Viewer) -> DeliveryOut:
    return _one_delivery(session, delivery_id)


def _requeue(state: AppState, delivery_id: int) -> tuple[int, NotificationEvent]:
    with Session(state.engine) as session:
        try:
            delivery, event = requeue(session, delivery_id)
        except LookupError:
            raise not_found("notification delivery", delivery_id) from None
        except NotFailedError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        return delivery.attempts, event


def _fail_again(state: AppState, delivery_id: int, reason: str) -> None:
    with Session(state.engine) as session:
        fail_requeued(session, delivery_id, reason)


def _read_delivery(state: AppState, delivery_id: int) -> DeliveryOut:
    with Session(state.engine) as session:
        return _one_delivery(session, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **CONFLICT, **TEMPORAL_DOWN},
)
async def retry_delivery(delivery_id: Id, state: StateDep, _: Operator) -> DeliveryOut:
    """Send a failed delivery again (after its receiver was fixed): back to pending, with a
    fresh allowance of attempts, delivered by a workflow. 409 unless it is failed."""
    attempts, event = await anyio.to_thread.run_sync(_requeue, state, delivery_id)
    try:
        await start_workflow(
            state,
            PUBLISH_WORKFLOW,
            event,
            resend_workflow_id(delivery_id, attempts),
            task_queue=TaskQueue.NOTIFY,
        )
    except HTTPException as exc:
        reason = f"resend not started: {exc.detail}"
        await anyio.to_thread.run_sync(_fail_again, state, delivery_id, reason)
        raise
    return await anyio.to_thread.run_sync(_read_delivery, state, delivery_id)
