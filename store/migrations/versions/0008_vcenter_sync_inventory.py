"""vcenter sync and inventory sweeps: sync runs, the hosts each vCenter showed, sweeps and
each server's readings (health, sensors, firmware) in each sweep

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
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

    op.create_table(
        "inventory_sweeps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(128)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("servers", sa.Integer(), nullable=False),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("unreachable", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(2000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_inventory_sweeps_status", "inventory_sweeps", ["status"])
    op.create_table(
        "server_readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sweep_id", sa.Integer(), sa.ForeignKey("inventory_sweeps.id"), nullable=False),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id"), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(2000)),
        sa.Column("health", sa.String(16)),
        sa.Column("health_was", sa.String(16)),
        sa.Column("health_changed", sa.Boolean(), nullable=False),
        sa.Column("rollups", sa.JSON(), nullable=False),
        sa.Column("sensors", sa.JSON(), nullable=False),
        sa.Column("firmware", sa.JSON()),
        sa.UniqueConstraint("sweep_id", "server_id", name="uq_readings_sweep_server"),
    )
    op.create_index("ix_server_readings_sweep_id", "server_readings", ["sweep_id"])
    op.create_index("ix_server_readings_server_id", "server_readings", ["server_id"])
    op.create_index("ix_server_readings_health_changed", "server_readings", ["health_changed"])


def downgrade() -> None:
    op.drop_table("server_readings")
    op.drop_table("inventory_sweeps")
    op.drop_table("vcenter_hosts")
    op.drop_table("vcenter_sync_runs")
