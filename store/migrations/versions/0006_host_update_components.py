"""per-component outcome of each host update: versions before and after, what was done

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Rows written by earlier releases keep NULL: their per-component result was never recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("host_updates", sa.Column("components", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host_updates") as batch:
        batch.drop_column("components")
