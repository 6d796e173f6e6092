"""Baselines and their compliance history: every evaluation is kept as a snapshot.

A run is one evaluation of one baseline against the inventory of that moment; its host
rows keep each host's full report (JSON, what the API exports) and its drift (since when
it is off the baseline, and what changed then). Host rows name the server by id without a
foreign key, so a server removed later leaves its history readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from store.models import _ts, utcnow


class Baseline(SQLModel, table=True):
    __tablename__ = "baselines"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    description: str | None = Field(default=None, sa_type=Text)
    catalog_id: int = Field(foreign_key="catalogs.id", index=True)
    scope: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    filters: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=255)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class ComplianceRun(SQLModel, table=True):
    """One evaluation; ``summary`` is the fleet summary at that moment."""

    __tablename__ = "compliance_runs"

    id: int | None = Field(default=None, primary_key=True)
    baseline_id: int = Field(foreign_key="baselines.id", index=True)
    catalog_id: int = Field(foreign_key="catalogs.id")
    evaluated_by: str = Field(max_length=255)
    evaluated_at: datetime = _ts(default_factory=utcnow)
    hosts: int = 0
    off_baseline: int = 0
    summary: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class ComplianceHost(SQLModel, table=True):
    """One host in one run: its report, and its drift after that run."""

    __tablename__ = "compliance_hosts"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="compliance_runs.id", index=True)
    baseline_id: int = Field(index=True)
    server_id: int = Field(index=True)
    state: str = Field(max_length=16, index=True)
    report: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    off_since: datetime | None = _ts(default=None, nullable=True)
    drift: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
