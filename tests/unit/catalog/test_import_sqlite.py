"""The embedded default (SQLite) imports the same way PostgreSQL does (its COPY path is
covered by tests/integration/api/test_catalogs.py): one transaction, kept per release."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from api.catalog_import import DuplicateCatalogError, import_catalog
from integrations.catalog.parser import CatalogError
from simulators.idrac.catalog import Package, catalog_bytes
from store.catalog import Catalog, CatalogComponentRow, CatalogDevice, CatalogSystem
from store.db import make_engine
from store.migrate import upgrade

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalog"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/orch.db"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def counts(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return [
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Catalog, CatalogComponentRow, CatalogDevice, CatalogSystem)
        ]


def test_the_sample_imports_with_its_devices_and_systems(engine: Engine) -> None:
    with (FIXTURES / "Catalog.xml.gz").open("rb") as raw:
        catalog = import_catalog(engine, raw, "file:Catalog.xml.gz", "tester")
    assert (catalog.version, catalog.software_count, catalog.inventory_count) == ("26.10.20", 4, 1)
    assert counts(engine) == [1, 5, 4, 6]  # 2 + 1 + 2 + 1 models
    with Session(engine) as session:
        nic = session.exec(
            select(CatalogComponentRow).where(CatalogComponentRow.package_id == "H4VY1")
        ).one()
    assert nic.devices[0]["pci"][0]["vendor_id"] == "14E4"
    with pytest.raises(DuplicateCatalogError, match=f"catalog {catalog.id}"):
        import_catalog(engine, (FIXTURES / "Catalog.xml").open("rb"), "file:x", "tester")
    assert counts(engine)[0] == 1


def test_a_bad_component_after_thousands_of_good_ones_stores_nothing(engine: Engine) -> None:
    packages = [Package(str(n), "1.0") for n in range(3000)]  # more than one write batch
    bad = catalog_bytes([*packages, Package("159", "1.0", size="-1")])
    with pytest.raises(CatalogError, match="SoftwareComponent@size: '-1'"):
        import_catalog(engine, io.BytesIO(bad), "upload:bad", "tester")
    assert counts(engine) == [0, 0, 0, 0]
