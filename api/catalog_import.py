"""One catalog import: read, parse and store in a single transaction (all or nothing).

Shared by ``POST /catalogs`` and the benchmark, so the benchmark measures what the API runs.
"""

from __future__ import annotations

from typing import IO

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from integrations.catalog.parser import CatalogReader
from integrations.catalog.source import CountingReader
from store.catalog import Catalog, add_catalog


class DuplicateCatalogError(Exception):
    """The same XML was imported before; ``existing`` is that catalog's id."""

    def __init__(self, existing: int | None) -> None:
        super().__init__(f"this catalog was already imported as catalog {existing}")
        self.existing = existing


def import_catalog(engine: Engine, raw: IO[bytes], source: str, imported_by: str) -> Catalog:
    """Raises CatalogError (bad input, nothing stored) or DuplicateCatalogError."""
    xml = CountingReader(raw)
    reader = CatalogReader(xml)
    with Session(engine, expire_on_commit=False) as session:
        catalog = add_catalog(session, reader.read_manifest(), reader, source, imported_by)
        catalog.sha256 = xml.sha256
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = session.exec(select(Catalog.id).where(Catalog.sha256 == xml.sha256))
            raise DuplicateCatalogError(existing.first()) from None
        return catalog
