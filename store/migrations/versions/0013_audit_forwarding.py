"""audit forwarding: the syslog forwarder's cursor (last forwarded audit seq) and last error

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
# A 0012 is being written on another branch; whoever merges second re-chains this after it.
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_forwarding",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("destination", sa.String(300), nullable=False),
        sa.Column("cursor_seq", sa.Integer(), nullable=False),
        sa.Column("forwarded_at", TS),
        sa.Column("checked_at", TS),
        sa.Column("last_error", sa.String(1000)),
        sa.Column("last_error_at", TS),
    )


def downgrade() -> None:
    op.drop_table("audit_forwarding")
