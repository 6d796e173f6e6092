"""catalogs: imported Dell catalogs, their components, devices and systems

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
COMPONENT = ("catalog_id", "seq")
COMPONENT_KEY = ("catalog_components.catalog_id", "catalog_components.seq")
PCI = ("vendor_id", "device_id", "sub_vendor_id", "sub_device_id")


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text())


def _child_table(name: str, *columns: sa.Column) -> None:
    """Key rows of one component: store/catalog.py _ComponentChild."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("catalog_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(COMPONENT, COMPONENT_KEY),
    )


def upgrade() -> None:
    op.create_table(
        "catalogs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), unique=True),
        sa.Column("source", sa.Text(), nullable=False),
        *(
            _text(name)
            for name in (
                "version",
                "release_id",
                "identifier",
                "predecessor_id",
                "date_time",
                "base_location",
                "base_location_protocols",
            )
        ),
        sa.Column("software_count", sa.Integer(), nullable=False),
        sa.Column("inventory_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(255), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
    )
    op.create_table(
        "catalog_components",
        sa.Column("catalog_id", sa.Integer(), sa.ForeignKey("catalogs.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("vendor_version", sa.Text(), nullable=False),
        _text("dell_version"),
        _text("package_id"),
        _text("release_id"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("component_type", sa.String(16)),
        _text("category"),
        _text("category_display"),
        sa.Column("criticality", sa.Integer()),
        _text("criticality_display"),
        sa.Column("reboot_required", sa.Boolean()),
        _text("package_type"),
        sa.Column("size", sa.BigInteger()),
        sa.Column("hash_md5", sa.String(32)),
        sa.Column("hash_sha256", sa.String(64)),
        _text("date_time"),
        _text("release_date"),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_catalog_components_type", "catalog_components", ["catalog_id", "component_type"]
    )
    op.create_index("ix_catalog_components_md5", "catalog_components", ["hash_md5"])
    op.create_index("ix_catalog_components_sha256", "catalog_components", ["hash_sha256"])
    _child_table(
        "catalog_devices",
        sa.Column("component_id", sa.String(32), nullable=False),
        *(sa.Column(name, sa.String(4)) for name in PCI),
    )
    op.create_index(
        "ix_catalog_devices_component", "catalog_devices", ["catalog_id", "component_id"]
    )
    _child_table("catalog_systems", sa.Column("system_id", sa.String(4), nullable=False))
    op.create_index("ix_catalog_systems_system", "catalog_systems", ["catalog_id", "system_id"])


def downgrade() -> None:
    for table in ("catalog_systems", "catalog_devices", "catalog_components", "catalogs"):
        op.drop_table(table)
