"""datacenters and servers

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datacenters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_datacenters_name", "datacenters", ["name"], unique=True)
    op.create_table(
        "servers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_tag", sa.String(length=16), nullable=False),
        sa.Column("idrac_address", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("datacenter_id", sa.Integer(), sa.ForeignKey("datacenters.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_servers_service_tag", "servers", ["service_tag"], unique=True)
    op.create_index("ix_servers_datacenter_id", "servers", ["datacenter_id"])


def downgrade() -> None:
    op.drop_table("servers")
    op.drop_table("datacenters")
