"""Onboarding tables: discovery runs and what they found, enrolled iDRACs, validations.

An *enrollment* is an iDRAC address the operator wants managed (from a discovery or a
bulk import), with where it belongs. Validation identifies it, creates or links its
``Server`` and records whether it is fit for campaigns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models import _ts, utcnow


class DiscoveryRun(SQLModel, table=True):
    """One discovery: its request (ranges, no secrets), progress counts and the diff."""

    __tablename__ = "discovery_runs"

    id: int | None = Field(default=None, primary_key=True)
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="running", max_length=16, index=True)
    workflow_id: str | None = Field(default=None, max_length=128)
    created_by: str = Field(max_length=255)
    scanned: int = 0
    answered: int = 0
    diff: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None, nullable=True)


class DiscoveryFinding(SQLModel, table=True):
    """What one address answered in one run (written per scanned chunk, idempotently)."""

    __tablename__ = "discovery_findings"
    __table_args__ = (UniqueConstraint("run_id", "address", name="uq_findings_run_address"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="discovery_runs.id", index=True)
    address: str = Field(max_length=64)
    endpoint: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class DiscoveredIdrac(SQLModel, table=True):
    """The latest knowledge of one address; ``gone_at`` once a covering run missed it."""

    __tablename__ = "discovered_idracs"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64, unique=True)
    endpoint: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    first_seen_at: datetime = _ts(default_factory=utcnow)
    last_seen_at: datetime = _ts(default_factory=utcnow)
    last_run_id: int = Field(foreign_key="discovery_runs.id", index=True)
    gone_at: datetime | None = _ts(default=None, nullable=True)


class Enrollment(SQLModel, table=True):
    """An iDRAC to bring under management, and where it belongs."""

    __tablename__ = "enrollments"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=255, unique=True)
    source: str = Field(max_length=16)  # import | discovery
    service_tag: str | None = Field(default=None, max_length=16)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id", index=True)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    esxi_host: str | None = Field(default=None, max_length=255)
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credential_profile_id: int | None = Field(
        default=None, foreign_key="credential_profiles.id", index=True
    )
    server_id: int | None = Field(default=None, foreign_key="servers.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class ServerValidation(SQLModel, table=True):
    """The latest onboarding validation of one enrollment; a failed one keeps its server
    out of campaigns until a later validation passes."""

    __tablename__ = "server_validations"

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollments.id", unique=True)
    server_id: int | None = Field(default=None, foreign_key="servers.id", index=True)
    passed: bool = Field(index=True)
    reason: str | None = Field(default=None, max_length=2000)
    checks: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    validated_at: datetime = _ts(default_factory=utcnow)
