"""SQLModel tables. Workflows never import this module (see ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Datacenter(SQLModel, table=True):
    """A site; its IANA timezone is what maintenance windows are expressed in."""

    __tablename__ = "datacenters"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    timezone: str = Field(max_length=64, description="IANA timezone, e.g. Europe/Amsterdam")
    created_at: datetime = Field(default_factory=_utcnow, sa_type=DateTime(timezone=True))


class Server(SQLModel, table=True):
    """A PowerEdge server: the ESXi host and the iDRAC that manages it."""

    __tablename__ = "servers"

    id: int | None = Field(default=None, primary_key=True)
    service_tag: str = Field(index=True, unique=True, max_length=16)
    idrac_address: str = Field(max_length=255)
    model: str | None = Field(default=None, max_length=64)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id", index=True)
    created_at: datetime = Field(default_factory=_utcnow, sa_type=DateTime(timezone=True))
