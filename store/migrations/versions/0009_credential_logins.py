"""credential profiles for vCenter logins too, and the profile that opened each iDRAC

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Existing profiles are iDRAC logins (what they were written for); vCenters keep the profile
chosen for them. Servers onboarded before keep NULL: the scope order decides for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "credential_profiles",
        sa.Column("login_for", sa.String(16), nullable=False, server_default="idrac"),
    )
    with op.batch_alter_table("servers") as batch:
        batch.add_column(sa.Column("credential_profile_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_servers_credential_profile_id",
            "credential_profiles",
            ["credential_profile_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("servers") as batch:
        batch.drop_constraint("fk_servers_credential_profile_id", type_="foreignkey")
        batch.drop_column("credential_profile_id")
    with op.batch_alter_table("credential_profiles") as batch:
        batch.drop_column("login_for")
