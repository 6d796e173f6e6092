"""inventory, credential profiles, packages, windows, campaigns, tokens, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
APPEND_ONLY_MESSAGE = "audit_events is append-only"


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "credential_profiles",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_key", sa.String(128), nullable=False, unique=True),
        sa.Column("datacenter_id", sa.Integer(), sa.ForeignKey("datacenters.id")),
        sa.Column("cidr", sa.String(64)),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id")),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_credential_profiles_name", "credential_profiles", ["name"], unique=True)
    op.create_index("ix_credential_profiles_key_id", "credential_profiles", ["key_id"])
    op.create_table(
        "vcenters",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("datacenter_id", sa.Integer(), sa.ForeignKey("datacenters.id")),
        sa.Column("credential_profile_id", sa.Integer(), sa.ForeignKey("credential_profiles.id")),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_vcenters_name", "vcenters", ["name"], unique=True)
    op.create_index("ix_vcenters_datacenter_id", "vcenters", ["datacenter_id"])
    op.create_table(
        "clusters",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("vcenter_id", sa.Integer(), sa.ForeignKey("vcenters.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("vcenter_id", "name", name="uq_clusters_vcenter_name"),
    )
    op.create_index("ix_clusters_name", "clusters", ["name"])
    op.create_index("ix_clusters_vcenter_id", "clusters", ["vcenter_id"])
    with op.batch_alter_table("servers") as batch:
        batch.add_column(sa.Column("cluster_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("system_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("esxi_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("firmware_inventory", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("health", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_seen_at", TS, nullable=True))
        batch.create_foreign_key("fk_servers_cluster_id", "clusters", ["cluster_id"], ["id"])
        batch.create_index("ix_servers_cluster_id", ["cluster_id"])
        batch.create_index("ix_servers_model", ["model"])
        batch.create_index("ix_servers_health", ["health"])
    op.create_table(
        "firmware_packages",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("component_id", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("applicable_models", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255)),
        sa.Column("size_bytes", sa.Integer()),
        sa.Column("uploaded_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("component_id", "version", name="uq_packages_component_version"),
    )
    op.create_index("ix_firmware_packages_component_id", "firmware_packages", ["component_id"])
    op.create_index("ix_firmware_packages_sha256", "firmware_packages", ["sha256"])
    op.create_table(
        "maintenance_windows",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("datacenter_id", sa.Integer(), sa.ForeignKey("datacenters.id")),
        sa.Column("weekdays", sa.JSON()),
        sa.Column("start_time", sa.String(5)),
        sa.Column("duration_minutes", sa.Integer()),
        sa.Column("starts_at", TS),
        sa.Column("ends_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_maintenance_windows_name", "maintenance_windows", ["name"], unique=True)
    op.create_index(
        "ix_maintenance_windows_datacenter_id", "maintenance_windows", ["datacenter_id"]
    )
    op.create_table(
        "campaigns",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(128)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("abort_reason", sa.String(1000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_campaigns_name", "campaigns", ["name"])
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_index("ix_campaigns_created_at", "campaigns", ["created_at"])
    op.create_table(
        "host_updates",
        _id(),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.String(64)),
        sa.Column("detail", sa.String(2000)),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("campaign_id", "server_id", "attempt", name="uq_host_updates_attempt"),
    )
    op.create_index("ix_host_updates_campaign_id", "host_updates", ["campaign_id"])
    op.create_index("ix_host_updates_server_id", "host_updates", ["server_id"])
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "audit_events",
        _id(),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16)),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("detail", sa.String(1000)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for column in ("occurred_at", "actor", "action", "outcome"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The database refuses UPDATE and DELETE on the audit log, not just the code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END; $$ LANGUAGE plpgsql"""
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )


def downgrade() -> None:
    for table in (
        "audit_events",
        "api_tokens",
        "host_updates",
        "campaigns",
        "maintenance_windows",
        "firmware_packages",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table("servers") as batch:
        batch.drop_index("ix_servers_health")
        batch.drop_index("ix_servers_model")
        batch.drop_index("ix_servers_cluster_id")
        batch.drop_constraint("fk_servers_cluster_id", type_="foreignkey")
        for column in (
            "last_seen_at",
            "health",
            "firmware_inventory",
            "esxi_host",
            "system_id",
            "cluster_id",
        ):
            batch.drop_column(column)
    op.drop_table("clusters")
    op.drop_table("vcenters")
    op.drop_table("credential_profiles")
