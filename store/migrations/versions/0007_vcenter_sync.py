"""vcenter sync: sync runs and the hosts each vCenter showed

Revision ID: 0007
Revises: 0005 (re-chain onto 0006 when that lands)
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vcenter_sync_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vcenter_id", sa.Integer(), sa.ForeignKey("vcenters.id"), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(128)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("report", sa.JSON()),
        sa.Column("error", sa.String(2000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_vcenter_sync_runs_vcenter_id", "vcenter_sync_runs", ["vcenter_id"])
    op.create_index("ix_vcenter_sync_runs_status", "vcenter_sync_runs", ["status"])
    op.create_table(
        "vcenter_hosts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vcenter_id", sa.Integer(), sa.ForeignKey("vcenters.id"), nullable=False),
        sa.Column("moid", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("service_tag", sa.String(16)),
        sa.Column("datacenter", sa.String(128)),
        sa.Column("cluster", sa.String(128)),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id")),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("gone_at", TS),
        sa.UniqueConstraint("vcenter_id", "moid", name="uq_vcenter_hosts_moid"),
    )
    op.create_index("ix_vcenter_hosts_vcenter_id", "vcenter_hosts", ["vcenter_id"])
    op.create_index("ix_vcenter_hosts_service_tag", "vcenter_hosts", ["service_tag"])
    op.create_index("ix_vcenter_hosts_server_id", "vcenter_hosts", ["server_id"])


def downgrade() -> None:
    op.drop_table("vcenter_hosts")
    op.drop_table("vcenter_sync_runs")
