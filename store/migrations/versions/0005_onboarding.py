"""onboarding: discovery runs and findings, discovered iDRACs, enrollments, validations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "discovery_runs",
        _id(),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(128)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("diff", sa.JSON()),
        sa.Column("error", sa.String(2000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_discovery_runs_status", "discovery_runs", ["status"])
    op.create_table(
        "discovery_findings",
        _id(),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("discovery_runs.id"), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.JSON(), nullable=False),
        sa.UniqueConstraint("run_id", "address", name="uq_findings_run_address"),
    )
    op.create_index("ix_discovery_findings_run_id", "discovery_findings", ["run_id"])
    op.create_table(
        "discovered_idracs",
        _id(),
        sa.Column("address", sa.String(64), nullable=False, unique=True),
        sa.Column("endpoint", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("last_run_id", sa.Integer(), sa.ForeignKey("discovery_runs.id"), nullable=False),
        sa.Column("gone_at", TS),
    )
    op.create_index("ix_discovered_idracs_last_run_id", "discovered_idracs", ["last_run_id"])
    op.create_table(
        "enrollments",
        _id(),
        sa.Column("address", sa.String(255), nullable=False, unique=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("service_tag", sa.String(16)),
        sa.Column("datacenter_id", sa.Integer(), sa.ForeignKey("datacenters.id")),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id")),
        sa.Column("esxi_host", sa.String(255)),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("credential_profile_id", sa.Integer(), sa.ForeignKey("credential_profiles.id")),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id")),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for column in ("datacenter_id", "cluster_id", "credential_profile_id", "server_id"):
        op.create_index(f"ix_enrollments_{column}", "enrollments", [column])
    op.create_table(
        "server_validations",
        _id(),
        sa.Column(
            "enrollment_id",
            sa.Integer(),
            sa.ForeignKey("enrollments.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id")),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(2000)),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("validated_at", TS, nullable=False),
    )
    op.create_index("ix_server_validations_server_id", "server_validations", ["server_id"])
    op.create_index("ix_server_validations_passed", "server_validations", ["passed"])


def downgrade() -> None:
    for table in (
        "server_validations",
        "enrollments",
        "discovered_idracs",
        "discovery_findings",
        "discovery_runs",
    ):
        op.drop_table(table)
