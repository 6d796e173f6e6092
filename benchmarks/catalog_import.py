"""Benchmark: import a generated 30,000-component Dell catalog (~40 MB of UTF-16 XML).

    .venv/bin/python -m benchmarks.catalog_import [--components 30000] [--gzip]

The product path (``api.catalog_import.import_catalog``, what ``POST /catalogs`` runs):
streaming parse with defusedxml, every component, device and system row written to a
fresh PostgreSQL database in one transaction. Generating the file is not timed. Targets:
<= 10 s and peak RSS <= 300 MiB. The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlmodel import Session, func, select

from api.catalog_import import import_catalog
from benchmarks.inventory_sweep import _cpu_s, _peak_rss_mb
from simulators.idrac.catalog import Package, write_catalog
from store.catalog import CatalogDevice, CatalogSystem
from store.db import make_engine
from store.migrate import upgrade
from tests.services.postgres import fresh_database

TARGET_S, TARGET_RSS_MIB = 10.0, 300.0
MODELS = [(f"{0x0900 + i:04X}", f"R{600 + i}") for i in range(40)]


def packages(count: int, seed: int = 7) -> Iterator[Package]:
    """Dell-like mix: 1-4 systems each, a PCI id on one package in three."""
    rng = random.Random(seed)
    for n in range(count):
        pci = (
            (
                f"{rng.randrange(0x10000):04X}",
                f"{rng.randrange(0x10000):04X}",
                "1028",
                f"{n % 0x10000:04X}",
            ),
        )
        yield Package(
            component_id=str(100000 + n % 5000),
            version=f"{rng.randrange(30)}.{rng.randrange(20)}.{rng.randrange(100)}",
            systems=tuple(rng.sample(MODELS, rng.randint(1, 4))),
            criticality=rng.choice((1, 2, 3)),
            reboot_required=rng.random() < 0.8,
            pci=pci if n % 3 == 0 else (),
            release_id=f"{n:05X}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--components", type=int, default=30_000)
    parser.add_argument("--gzip", action="store_true", help="import the .xml.gz instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, fresh_database("bench_catalog") as url:
        path = Path(folder) / "Catalog.xml"
        with path.open("wb") as out:
            write_catalog(out, packages(args.components))
        if args.gzip:
            with path.open("rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            path = Path(f"{path}.gz")
        upgrade(url)
        engine = make_engine(url)
        rss_before, cpu_before = _peak_rss_mb(), _cpu_s()
        started = time.perf_counter()
        with path.open("rb") as raw:
            catalog = import_catalog(engine, raw, f"file:{path}", "benchmark")
        elapsed = time.perf_counter() - started
        with Session(engine) as session:
            devices = session.exec(select(func.count()).select_from(CatalogDevice)).one()
            systems = session.exec(select(func.count()).select_from(CatalogSystem)).one()
        engine.dispose()
        result = {
            "benchmark": "catalog_import",
            "components": catalog.software_count + catalog.inventory_count,
            "device_rows": devices,
            "system_rows": systems,
            "file_bytes": path.stat().st_size,
            "gzip": args.gzip,
            "elapsed_s": round(elapsed, 2),
            "cpu_s": round(_cpu_s() - cpu_before, 2),
            "components_per_s": round(catalog.software_count / elapsed),
            "peak_rss_mib": round(_peak_rss_mb(), 1),
            "rss_before_import_mib": round(rss_before, 1),
            "target_s": TARGET_S,
            "target_rss_mib": TARGET_RSS_MIB,
            "pass": elapsed <= TARGET_S and _peak_rss_mb() <= TARGET_RSS_MIB,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
