"""installation id (one UUID per database, in ServiceNow correlation ids); change tickets
opened before it keep their old correlation id; audit_events (action, target) index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("installation_id", sa.String(36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_installation_one_row"),
    )
    # Generated here, once: a database rebuilt from scratch is another installation.
    op.bulk_insert(
        installation,
        [{"id": 1, "installation_id": str(uuid.uuid4()), "created_at": datetime.now(UTC)}],
    )
    op.add_column(
        "change_tickets",
        sa.Column("legacy_correlation", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Rows claimed before this revision may have a change request under the old correlation
    # id (idrac-orch-campaign-<id>) whose sys_id was never stored (a create whose answer was
    # lost): those alone may still look it up by that id.
    op.execute(sa.text("UPDATE change_tickets SET legacy_correlation = :yes").bindparams(yes=True))
    # The /metrics maintenance histogram pairs each exit with its entry by (action, target).
    op.create_index("ix_audit_events_action_target", "audit_events", ["action", "target"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_action_target", "audit_events")
    op.drop_column("change_tickets", "legacy_correlation")
    op.drop_table("installation")
