"""campaigns record their own final state: longer status, status_reason, finished_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

``finished_with_failures`` (22 characters) is both a campaign status and the outcome of
the audit entry written when a campaign ends, so both columns grow to 32. Only PostgreSQL
needs that: SQLite does not enforce VARCHAR lengths, and a batch ALTER there would rebuild
audit_events without its append-only triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = (("campaigns", "status"), ("audit_events", "outcome"))


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("status_reason", sa.String(2000), nullable=True))
    op.add_column("campaigns", sa.Column("finished_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name == "postgresql":
        for table, column in WIDENED:
            op.alter_column(table, column, type_=sa.String(32), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in WIDENED:
            op.alter_column(table, column, type_=sa.String(16), existing_nullable=False)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("status_reason")
