"""A stored catalog read back as :mod:`domain.catalog` values, for the pure decisions.

Only the software packages that support one of the given SystemIDs are loaded: a baseline
over a fleet of three models reads a few hundred of a catalog's 30,000 components.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlmodel import Session, col, exists, select

from domain.catalog import (
    CatalogComponent,
    Criticality,
    PciId,
    SupportedDevice,
    SupportedSystem,
)
from store.catalog import CatalogComponentRow, CatalogSystem


def components_for_systems(
    session: Session, catalog_id: int, system_ids: Collection[str]
) -> list[tuple[int, CatalogComponent]]:
    """(seq, component) of the catalog's packages for any of ``system_ids``, in file order."""
    if not system_ids:
        return []
    row = CatalogComponentRow
    supported = exists().where(
        CatalogSystem.catalog_id == row.catalog_id,
        CatalogSystem.seq == row.seq,
        col(CatalogSystem.system_id).in_(sorted(system_ids)),
    )
    statement = (
        select(row)
        .where(row.catalog_id == catalog_id, row.kind == "software", supported)
        .order_by(col(row.seq))
    )
    return [(r.seq, to_component(r)) for r in session.exec(statement)]


def to_component(row: CatalogComponentRow) -> CatalogComponent:
    return CatalogComponent(
        kind="software" if row.kind == "software" else "inventory",
        line=row.line,
        path=row.path,
        vendor_version=row.vendor_version,
        dell_version=row.dell_version,
        package_id=row.package_id,
        release_id=row.release_id,
        name=row.name,
        component_type=row.component_type,
        category=row.category,
        category_display=row.category_display,
        criticality=(
            Criticality.of(row.criticality, row.criticality_display)
            if row.criticality is not None
            else None
        ),
        reboot_required=row.reboot_required,
        package_type=row.package_type,
        size=row.size,
        hash_md5=row.hash_md5,
        hash_sha256=row.hash_sha256,
        date_time=row.date_time,
        release_date=row.release_date,
        devices=tuple(_device(d) for d in row.devices),
        systems=tuple(SupportedSystem(**s) for s in row.systems),
    )


def _device(value: dict[str, Any]) -> SupportedDevice:
    return SupportedDevice(
        component_id=value["component_id"],
        embedded=value["embedded"],
        pci=tuple(PciId(**p) for p in value["pci"]),
    )
