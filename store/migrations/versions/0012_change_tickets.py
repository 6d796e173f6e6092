"""change_tickets: each campaign's change request per ticket channel (ServiceNow sys_id and
number)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "change_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("notification_channels.id"),
            nullable=False,
        ),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("sys_id", sa.String(32)),
        sa.Column("number", sa.String(40)),
        sa.Column("closed_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("channel_id", "campaign_id", name="uq_change_tickets_campaign"),
    )
    op.create_index("ix_change_tickets_channel_id", "change_tickets", ["channel_id"])
    op.create_index("ix_change_tickets_campaign_id", "change_tickets", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("change_tickets")
