"""SQLModel tables. Workflows never import this module (see ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as UTC, read back aware: SQLite would otherwise drop the offset silently."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kwargs)


class Datacenter(SQLModel, table=True):
    """A site; its IANA timezone is what maintenance windows are expressed in."""

    __tablename__ = "datacenters"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    timezone: str = Field(max_length=64, description="IANA timezone, e.g. Europe/Amsterdam")
    created_at: datetime = _ts(default_factory=utcnow)


class Vcenter(SQLModel, table=True):
    """A vCenter Server; its login comes from an explicitly chosen credential profile."""

    __tablename__ = "vcenters"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    address: str = Field(max_length=255)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id", index=True)
    # use_alter: vcenters -> profiles -> servers -> clusters -> vcenters is a cycle.
    credential_profile_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("credential_profiles.id", use_alter=True), nullable=True
        ),
    )
    created_at: datetime = _ts(default_factory=utcnow)


class Cluster(SQLModel, table=True):
    """A vSphere cluster: the unit a campaign rolls through under its concurrency limits."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("vcenter_id", "name", name="uq_clusters_vcenter_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=128)
    vcenter_id: int = Field(foreign_key="vcenters.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)


class Server(SQLModel, table=True):
    """A PowerEdge server: the ESXi host and the iDRAC that manages it."""

    __tablename__ = "servers"

    id: int | None = Field(default=None, primary_key=True)
    service_tag: str = Field(index=True, unique=True, max_length=16)
    idrac_address: str = Field(max_length=255)
    model: str | None = Field(default=None, max_length=64, index=True)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id", index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    system_id: str | None = Field(default=None, max_length=16, description="Dell SystemID")
    esxi_host: str | None = Field(default=None, max_length=255)
    firmware_inventory: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    health: str | None = Field(default=None, max_length=16, index=True)
    last_seen_at: datetime | None = _ts(default=None, nullable=True)
    # The profile that opened this iDRAC at onboarding; use_alter: profiles -> servers too.
    credential_profile_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey(
                "credential_profiles.id", use_alter=True, name="fk_servers_credential_profile_id"
            ),
            nullable=True,
        ),
    )


class CredentialProfile(SQLModel, table=True):
    """An iDRAC or vCenter login. The secret is AES-GCM ciphertext under key ``key_id``.

    ``scope_key`` (``global``, ``datacenter:<id>``, ``cidr:<net>``, ``host:<id>``, prefixed
    ``vcenter:`` for vCenter logins) is unique, so two profiles can never tie at the same
    specificity.
    """

    __tablename__ = "credential_profiles"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    scope: str = Field(max_length=16)
    login_for: str = Field(default="idrac", max_length=16)  # idrac | vcenter
    scope_key: str = Field(unique=True, max_length=128)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id")
    cidr: str | None = Field(default=None, max_length=64)
    server_id: int | None = Field(default=None, foreign_key="servers.id")
    username: str = Field(max_length=128)
    secret_ciphertext: bytes = Field(sa_type=LargeBinary)
    key_id: str = Field(max_length=32, index=True)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class FirmwarePackage(SQLModel, table=True):
    """A Dell Update Package; ``file_name`` is set once the upload matched ``sha256``."""

    __tablename__ = "firmware_packages"
    __table_args__ = (
        UniqueConstraint("component_id", "version", name="uq_packages_component_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    component_id: str = Field(index=True, max_length=32)
    version: str = Field(max_length=64)
    applicable_models: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    sha256: str = Field(max_length=64, index=True)
    file_name: str | None = Field(default=None, max_length=255)
    size_bytes: int | None = None
    uploaded_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)


class MaintenanceWindow(SQLModel, table=True):
    """A recurring weekly or one-off window, in the window's own IANA timezone."""

    __tablename__ = "maintenance_windows"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    kind: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    datacenter_id: int | None = Field(default=None, foreign_key="datacenters.id", index=True)
    weekdays: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    start_time: str | None = Field(default=None, max_length=5)
    duration_minutes: int | None = None
    starts_at: datetime | None = _ts(default=None, nullable=True)
    ends_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    """The stored record of a campaign; Temporal owns its execution state.

    ``status`` is the campaign's own state (api/campaign_status.py), last seen while it runs
    and recorded once, for good, when its workflow closes.
    """

    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=128)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="created", max_length=32, index=True)
    status_reason: str | None = Field(default=None, max_length=2000)
    workflow_id: str | None = Field(default=None, max_length=128)
    run_id: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=255)
    abort_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _ts(default_factory=utcnow, index=True)
    started_at: datetime | None = _ts(default=None, nullable=True)
    finished_at: datetime | None = _ts(default=None, nullable=True)
    updated_at: datetime = _ts(default_factory=utcnow)


class HostUpdate(SQLModel, table=True):
    """Outcome of one host's runbook within a campaign (written by activities)."""

    __tablename__ = "host_updates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "server_id", "attempt", name="uq_host_updates_attempt"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id", index=True)
    server_id: int = Field(foreign_key="servers.id", index=True)
    attempt: int = Field(default=1, ge=1)
    status: str = Field(max_length=16)
    step: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=2000)
    started_at: datetime | None = _ts(default=None, nullable=True)
    finished_at: datetime | None = _ts(default=None, nullable=True)
    components: list[dict[str, Any]] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="per component: id, target, before, after, status; NULL before 0006",
    )


class ApiToken(SQLModel, table=True):
    """An automation token: only its SHA-256 is stored; revocation is a timestamp."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    token_hash: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=16)
    approver: bool = Field(
        default=False, description="May approve or reject campaigns (an admin minted it so)."
    )
    created_by: str = Field(max_length=255)
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime | None = _ts(default=None, nullable=True)
    revoked_at: datetime | None = _ts(default=None, nullable=True)


class AuditEvent(SQLModel, table=True):
    """One audited action. Append-only (database triggers refuse UPDATE and DELETE);
    ``hash`` chains every row to the one before it (domain/audit_chain.py)."""

    __tablename__ = "audit_events"
    # /metrics pairs each maintenance exit with its entry by (action, target) (0016).
    __table_args__ = (Index("ix_audit_events_action_target", "action", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    occurred_at: datetime = _ts(index=True)
    actor: str = Field(max_length=255, index=True)
    role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=128, index=True)
    target: str = Field(max_length=512)
    outcome: str = Field(max_length=32, index=True)
    source: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=1000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(
        default=None, max_length=16, description="HMAC key of ``hash``; None: plain SHA-256"
    )


class Installation(SQLModel, table=True):
    """The one row naming this installation (this database): a UUID generated by migration
    0016, part of ServiceNow correlation ids so that two installations, or one rebuilt from
    an empty database, sharing a ServiceNow instance never touch each other's requests."""

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="ck_installation_one_row"),)

    id: int = Field(default=1, primary_key=True)
    installation_id: str = Field(max_length=36)
    created_at: datetime = _ts(default_factory=utcnow)
