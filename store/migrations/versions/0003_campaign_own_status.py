"""campaigns record their own final state: longer status, status_reason, finished_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

``finished_with_failures`` (22 characters) is both a campaign status and the outcome of
the audit entry written when a campaign ends, so both columns grow to 32. On SQLite the
batch ALTER rebuilds audit_events, which drops its append-only triggers: they are created
again (as in 0002).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("status_reason", sa.String(2000)))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True)))
    _resize(32)


def downgrade() -> None:
    _resize(16)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("status_reason")


def _resize(length: int) -> None:
    for table, column in (("campaigns", "status"), ("audit_events", "outcome")):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length), existing_nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
