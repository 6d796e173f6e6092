"""audit chain keyed with HMAC: the id of each entry's key

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Existing entries keep their plain SHA-256 hashes (key_id NULL); the API seals them with one
keyed entry when it first starts with a key (store.audit.seal_unkeyed_head).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "key_id")
