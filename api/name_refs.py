"""Names a request refers to (clusters, hosts, datacenters) must exist: a 422 naming the
field and the positions of the unknown ones (never their values, which may be anything)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from api.crud import invalid
from domain.campaign_spec import positions


def check_names(
    session: Session, field: str, columns: Sequence[Any], values: Sequence[str], where: str
) -> None:
    """Each value must be in one of ``columns``; 422 at ``where``.``field`` otherwise."""
    if not values:
        return
    found: set[str] = set()
    for column in columns:
        found.update(session.exec(select(column).where(col(column).in_(values))).all())
    missing = [index for index, value in enumerate(values) if value not in found]
    if missing:
        raise invalid(field, f"unknown at {positions(missing)}", where)
