"""Imported Dell catalogs: every import kept as its own version, never overwritten.

A component row is keyed by (catalog, position in the file). Its devices and systems are
kept twice on purpose: as JSON on the row (what the API shows, one read) and as narrow
key rows (``catalog_devices``, ``catalog_systems``) that the applicability filters and
indexes work on. The import writes everything in one transaction, in batches, so a bad
line halfway through leaves nothing behind and memory does not grow with the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKeyConstraint, Index, Table, Text, insert
from sqlmodel import Field, Session, SQLModel

from domain.catalog import CatalogComponent, Manifest, SupportedDevice
from store.models import _ts, utcnow

BATCH = 2000


class Catalog(SQLModel, table=True):
    """One imported catalog file; ``sha256`` is of its XML (after any gzip)."""

    __tablename__ = "catalogs"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str | None = Field(default=None, max_length=64, unique=True)
    source: str = Field(sa_type=Text, description="file:, folder:, url: or upload:")
    version: str | None = Field(default=None, sa_type=Text)
    release_id: str | None = Field(default=None, sa_type=Text)
    identifier: str | None = Field(default=None, sa_type=Text)
    predecessor_id: str | None = Field(default=None, sa_type=Text)
    date_time: str | None = Field(default=None, sa_type=Text, description="Manifest@dateTime")
    base_location: str | None = Field(default=None, sa_type=Text)
    base_location_protocols: str | None = Field(default=None, sa_type=Text)
    software_count: int = 0
    inventory_count: int = 0
    imported_by: str = Field(max_length=255)
    imported_at: datetime = _ts(default_factory=utcnow)


class CatalogComponentRow(SQLModel, table=True):
    __tablename__ = "catalog_components"
    __table_args__ = (
        Index("ix_catalog_components_type", "catalog_id", "component_type"),
        Index("ix_catalog_components_md5", "hash_md5"),
        Index("ix_catalog_components_sha256", "hash_sha256"),
    )

    catalog_id: int = Field(foreign_key="catalogs.id", primary_key=True)
    seq: int = Field(primary_key=True, description="position in the file, from 1")
    kind: str = Field(max_length=16)
    line: int
    path: str = Field(sa_type=Text)
    vendor_version: str = Field(sa_type=Text)
    dell_version: str | None = Field(default=None, sa_type=Text)
    package_id: str | None = Field(default=None, sa_type=Text)
    release_id: str | None = Field(default=None, sa_type=Text)
    name: str = Field(default="", sa_type=Text)
    component_type: str | None = Field(default=None, max_length=16)
    category: str | None = Field(default=None, sa_type=Text)
    category_display: str | None = Field(default=None, sa_type=Text)
    criticality: int | None = None
    criticality_display: str | None = Field(default=None, sa_type=Text)
    reboot_required: bool | None = None
    package_type: str | None = Field(default=None, sa_type=Text)
    size: int | None = Field(default=None, sa_type=BigInteger)
    hash_md5: str | None = Field(default=None, max_length=32)
    hash_sha256: str | None = Field(default=None, max_length=64)
    date_time: str | None = Field(default=None, sa_type=Text)
    release_date: str | None = Field(default=None, sa_type=Text)
    devices: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    systems: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))


def _child_args(index: str, column: str) -> tuple[ForeignKeyConstraint, Index]:
    """A child row belongs to its component; it is looked up by catalog and ``column``."""
    return (
        ForeignKeyConstraint(
            ["catalog_id", "seq"], ["catalog_components.catalog_id", "catalog_components.seq"]
        ),
        Index(index, "catalog_id", column),
    )


class _ComponentChild(SQLModel):
    """A key row of one component (its devices, its systems), for filters and indexes."""

    id: int | None = Field(default=None, primary_key=True)
    catalog_id: int
    seq: int


class CatalogDevice(_ComponentChild, table=True):
    """A device a component targets; PCI ids only for cards the catalog describes so."""

    __tablename__ = "catalog_devices"
    __table_args__ = _child_args("ix_catalog_devices_component", "component_id")

    component_id: str = Field(max_length=32)
    vendor_id: str | None = Field(default=None, max_length=4)
    device_id: str | None = Field(default=None, max_length=4)
    sub_vendor_id: str | None = Field(default=None, max_length=4)
    sub_device_id: str | None = Field(default=None, max_length=4)


class CatalogSystem(_ComponentChild, table=True):
    __tablename__ = "catalog_systems"
    __table_args__ = _child_args("ix_catalog_systems_system", "system_id")

    system_id: str = Field(max_length=4)


def _component_row(catalog_id: int, seq: int, c: CatalogComponent) -> dict[str, Any]:
    return {
        "catalog_id": catalog_id,
        "seq": seq,
        "kind": c.kind,
        "line": c.line,
        "path": c.path,
        "vendor_version": c.vendor_version,
        "dell_version": c.dell_version,
        "package_id": c.package_id,
        "release_id": c.release_id,
        "name": c.name,
        "component_type": c.component_type,
        "category": c.category,
        "category_display": c.category_display,
        "criticality": c.criticality.value if c.criticality else None,
        "criticality_display": c.criticality.display if c.criticality else None,
        "reboot_required": c.reboot_required,
        "package_type": c.package_type,
        "size": c.size,
        "hash_md5": c.hash_md5,
        "hash_sha256": c.hash_sha256,
        "date_time": c.date_time,
        "release_date": c.release_date,
        "devices": [_device_json(d) for d in c.devices],
        "systems": [
            {"system_id": s.system_id, "brand": s.brand, "model": s.model} for s in c.systems
        ],
    }


def _device_json(device: SupportedDevice) -> dict[str, Any]:
    return {
        "component_id": device.component_id,
        "embedded": device.embedded,
        "pci": [
            {
                "vendor_id": p.vendor_id,
                "device_id": p.device_id,
                "sub_vendor_id": p.sub_vendor_id,
                "sub_device_id": p.sub_device_id,
            }
            for p in device.pci
        ],
    }


def _device_rows(catalog_id: int, seq: int, c: CatalogComponent) -> list[dict[str, Any]]:
    rows = []
    for device in c.devices:
        base = {"catalog_id": catalog_id, "seq": seq, "component_id": device.component_id}
        pcis = device.pci or (None,)
        for pci in pcis:
            rows.append(
                {
                    **base,
                    "vendor_id": pci.vendor_id if pci else None,
                    "device_id": pci.device_id if pci else None,
                    "sub_vendor_id": pci.sub_vendor_id if pci else None,
                    "sub_device_id": pci.sub_device_id if pci else None,
                }
            )
    return rows


class _Batch:
    """Rows waiting to be written; flushed every BATCH components."""

    def __init__(self, session: Session, catalog_id: int) -> None:
        self.session, self.catalog_id = session, catalog_id
        self.components: list[dict[str, Any]] = []
        self.devices: list[dict[str, Any]] = []
        self.systems: list[dict[str, Any]] = []

    def add(self, seq: int, component: CatalogComponent) -> None:
        self.components.append(_component_row(self.catalog_id, seq, component))
        self.devices.extend(_device_rows(self.catalog_id, seq, component))
        self.systems.extend(
            {"catalog_id": self.catalog_id, "seq": seq, "system_id": s.system_id}
            for s in component.systems
        )
        if len(self.components) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for model, rows in (
            (CatalogComponentRow, self.components),
            (CatalogDevice, self.devices),
            (CatalogSystem, self.systems),
        ):
            if rows:
                _write(self.session, model.__table__, rows)  # type: ignore[attr-defined]
                rows.clear()


def _write(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY, an order of magnitude faster than INSERTs for 10^5 rows, in the
    session's own transaction. Elsewhere (SQLite): executemany."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def add_catalog(
    session: Session,
    manifest: Manifest,
    components: Iterable[CatalogComponent],
    source: str,
    imported_by: str,
) -> Catalog:
    """Write a catalog and its components (the caller commits, or rolls back on error).

    ``sha256`` is left for the caller to set once the whole file has been read."""
    catalog = Catalog(source=source, imported_by=imported_by, **asdict(manifest))
    session.add(catalog)
    session.flush()
    assert catalog.id is not None
    batch = _Batch(session, catalog.id)
    counts = {"software": 0, "inventory": 0}
    for seq, component in enumerate(components, start=1):
        counts[component.kind] += 1
        batch.add(seq, component)
    batch.flush()
    catalog.software_count, catalog.inventory_count = counts["software"], counts["inventory"]
    return catalog
