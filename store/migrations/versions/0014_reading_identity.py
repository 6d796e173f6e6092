"""server_readings: the machine that answered (service tag, SystemID) and whether it was a
different one than the server expected at that address

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("server_readings", sa.Column("service_tag", sa.String(64)))
    op.add_column("server_readings", sa.Column("system_id", sa.String(8)))
    op.add_column(
        "server_readings",
        sa.Column("tag_mismatch", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_server_readings_tag_mismatch", "server_readings", ["tag_mismatch"])


def downgrade() -> None:
    op.drop_index("ix_server_readings_tag_mismatch", "server_readings")
    op.drop_column("server_readings", "tag_mismatch")
    op.drop_column("server_readings", "system_id")
    op.drop_column("server_readings", "service_tag")
