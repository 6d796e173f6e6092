"""Each campaign's change request per ticket channel: claimed under a row lock before it is
created, so that two sends for one campaign (its start from the campaign workflow, a host's
note from a cluster workflow, at the same moment) never both create one."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store.models import utcnow
from store.notifications import ChangeTicket


def claim(session: Session, channel_id: int, campaign_id: int) -> ChangeTicket:
    """The campaign's row, inserted on first sight and locked until the session commits or
    rolls back (PostgreSQL: the row lock, or the unique index for a row not yet committed;
    SQLite: its single writer)."""
    query = (
        select(ChangeTicket)
        .where(ChangeTicket.channel_id == channel_id, ChangeTicket.campaign_id == campaign_id)
        .with_for_update()
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    ticket = ChangeTicket(channel_id=channel_id, campaign_id=campaign_id)
    session.add(ticket)
    try:
        session.flush()  # waits here while another session holds the same new row
    except IntegrityError:  # that session committed it first
        session.rollback()
        return session.exec(query).one()
    return ticket


def opened(session: Session, ticket: ChangeTicket, sys_id: str, number: str) -> None:
    ticket.sys_id, ticket.number, ticket.updated_at = sys_id, number, utcnow()
    session.add(ticket)
    session.commit()


def closed(session: Session, ticket: ChangeTicket) -> None:
    ticket.closed_at = ticket.updated_at = utcnow()
    session.add(ticket)
    session.commit()
