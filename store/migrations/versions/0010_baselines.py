"""baselines: a catalog plus scope and filters, and every compliance evaluation of it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "baselines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("catalog_id", sa.Integer(), sa.ForeignKey("catalogs.id"), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_baselines_name", "baselines", ["name"], unique=True)
    op.create_index("ix_baselines_catalog_id", "baselines", ["catalog_id"])
    op.create_table(
        "compliance_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("baseline_id", sa.Integer(), sa.ForeignKey("baselines.id"), nullable=False),
        sa.Column("catalog_id", sa.Integer(), sa.ForeignKey("catalogs.id"), nullable=False),
        sa.Column("evaluated_by", sa.String(255), nullable=False),
        sa.Column("evaluated_at", TS, nullable=False),
        sa.Column("hosts", sa.Integer(), nullable=False),
        sa.Column("off_baseline", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_compliance_runs_baseline_id", "compliance_runs", ["baseline_id"])
    op.create_table(
        "compliance_hosts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("compliance_runs.id"), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("off_since", TS),
        sa.Column("drift", sa.JSON(), nullable=False),
    )
    for column in ("run_id", "baseline_id", "server_id", "state"):
        op.create_index(f"ix_compliance_hosts_{column}", "compliance_hosts", [column])


def downgrade() -> None:
    for table in ("compliance_hosts", "compliance_runs", "baselines"):
        op.drop_table(table)
