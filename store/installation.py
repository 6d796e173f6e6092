"""This installation's id: a UUID generated once, by migration 0016, and kept in the
database (a database rebuilt from scratch is a new installation)."""

from __future__ import annotations

from sqlmodel import Session

from store.models import Installation


def installation_id(session: Session) -> str:
    row = session.get(Installation, 1)
    if row is None:  # only a database not migrated to 0016 lacks it
        raise RuntimeError("the installation row is missing: run the database migrations")
    return row.installation_id
