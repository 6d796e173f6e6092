"""A notification delivered to a ticket channel: the campaign's ServiceNow change request
opened, noted or closed (domain/tickets.py says which).

Exactly one change request per campaign and channel, whatever crashes: the campaign's
ticket row is claimed under a lock, ServiceNow is asked for a request with the campaign's
correlation id (a create whose answer was lost), and only then is one created; its sys_id
is stored in the same step. Notes and the close go after the lock is released. A note
accepted just before a crash is sent again by the retried delivery (at least once; the note
names the event's key, so a reader tells the two apart).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session

from activities.resources import Resources
from domain.notify_channels import ServiceNowConfig
from domain.tickets import (
    TicketAction,
    closing_fields,
    correlation_id,
    legacy_correlation_id,
    note_fields,
    opening_fields,
    ticket_action,
)
from integrations.notify.errors import DeliveryError
from integrations.notify.http import HttpOptions
from integrations.notify.servicenow import ServiceNowClient
from store import change_tickets
from store.installation import installation_id
from store.notify_outbox import Outbound


def send_ticket(resources: Resources, outbound: Outbound, options: HttpOptions) -> None:
    event, campaign_id = outbound.event, outbound.event.campaign_id
    action = ticket_action(event)
    if action is None or campaign_id is None:
        return  # nothing for a change request: delivered by doing nothing
    try:
        config = ServiceNowConfig.model_validate(outbound.config)
    except ValidationError:
        # Stored before instance_url had to be https (or otherwise no longer valid): the
        # secret is not sent, and retrying cannot help until an admin fixes the channel.
        raise DeliveryError(
            "the channel's config is no longer valid (instance_url must be https, http only "
            "for a loopback address): change the channel",
            retryable=False,
        ) from None
    with (
        ServiceNowClient(config, outbound.secret or "", options) as servicenow,
        Session(resources.engine) as session,
    ):
        ticket = change_tickets.claim(session, outbound.channel_id, campaign_id)
        sys_id = ticket.sys_id
        if sys_id is None:
            installation = installation_id(session)
            found = servicenow.find(correlation_id(campaign_id, installation))
            if found is None and ticket.legacy_correlation:
                # Claimed before migration 0016: its create may have reached ServiceNow
                # under the correlation id that carried no installation id.
                found = servicenow.find(legacy_correlation_id(campaign_id))
            if found is None and action is TicketAction.CLOSE:
                return  # never opened (planning failed, rejected): nothing to close
            found = found or servicenow.create(opening_fields(campaign_id, installation))
            change_tickets.opened(session, ticket, found.sys_id, found.number)
            sys_id = found.sys_id
        else:
            session.commit()  # the lock is not needed for what follows
        if action is TicketAction.NOTE:
            servicenow.update(sys_id, note_fields(event))
        elif action is TicketAction.CLOSE:
            servicenow.update(sys_id, closing_fields(event))
            change_tickets.closed(session, ticket)
