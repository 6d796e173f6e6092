"""The twin's catalogs through the product's importer and compliance evaluation: the demo
fleet, as its iDRACs report it, against an older and a newer Dell release. Every package
of a release is a DUP the twin can install: its name says its component and version, its
file's MD5 and size are the catalog's."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from api.catalog_import import import_catalog
from domain.compliance import State
from simulators.fleet import Fleet, load_fleet
from simulators.idrac.catalog import fleet_packages, fleet_release, write_mirror
from simulators.idrac.components import COMPONENTS
from simulators.idrac.dup import identify_image
from simulators.idrac.personality import PERSONALITIES
from store.baselines import Baseline
from store.compliance import evaluate
from store.db import make_engine
from store.migrate import upgrade
from store.models import Cluster, Datacenter, Server, Vcenter
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(ROOT / "examples" / "fleet-demo.yaml")


@pytest.fixture
def engine(tmp_path: Path, fleet: Fleet) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/orch.db"
    upgrade(url)
    engine = make_engine(url)
    _enter(engine, fleet)
    yield engine
    engine.dispose()


def _enter(engine: Engine, fleet: Fleet) -> None:
    """The fleet's servers with the firmware inventory the twin reports for each
    (its component ids and versions, simulators/idrac/host.py)."""
    with Session(engine) as session:
        vcenter = Vcenter(name="vc", address="127.0.0.1")
        session.add(vcenter)
        session.flush()
        for dc in fleet.datacenters:
            site = Datacenter(name=dc.name, timezone=dc.timezone)
            session.add(site)
            session.flush()
            for spec in dc.clusters:
                cluster = Cluster(name=spec.name, vcenter_id=vcenter.id or 0)
                session.add(cluster)
                session.flush()
                for host in spec.hosts:
                    defaults = {key: c.default_version for key, c in COMPONENTS.items()}
                    defaults["idrac"] = PERSONALITIES[host.personality].idrac_version
                    firmware = [
                        {"component_id": c.component_id, "name": c.name, "version": v}
                        for key, c in COMPONENTS.items()
                        for v in [host.firmware.get(key, defaults[key])]
                    ]
                    session.add(
                        Server(
                            service_tag=host.service_tag,
                            idrac_address=host.idrac_address or "127.0.0.1",
                            model=host.model,
                            datacenter_id=site.id,
                            cluster_id=cluster.id,
                            system_id=f"0x{host.system_id:04X}",
                            esxi_host=host.name,
                            firmware_inventory=firmware,
                        )
                    )
        session.commit()


def _states(engine: Engine, catalog: bytes) -> dict[str, State]:
    """Each host's state against a baseline of the whole fleet on CATALOG, imported."""
    row = import_catalog(engine, io.BytesIO(catalog), "upload:twin", "tester")
    with Session(engine) as session:
        baseline = Baseline(
            name=f"fleet-{row.id}",
            catalog_id=row.id or 0,
            scope={},
            filters={},
            created_by="tester",
        )
        session.add(baseline)
        session.commit()
        return {h.service_tag: h.state for h in evaluate(session, baseline)}


def test_release_0_is_the_fleet_as_shipped_and_release_2_updates_every_host(
    engine: Engine, fleet: Fleet
) -> None:
    older = _states(engine, fleet_release(fleet, 0))
    older_idrac = {
        h.service_tag for _, _, h in fleet.hosts() if h.personality != "idrac9-7.x"
    }  # the 4.x and 5.x lines run an older iDRAC than the release's
    assert older == {
        h.service_tag: (
            State.DOWNGRADE  # DEMO012 runs BIOS 2.19.1, newer than the release's
            if h.service_tag == "DEMO012"
            else State.UPGRADE
            if h.service_tag in older_idrac
            else State.COMPLIANT
        )
        for _, _, h in fleet.hosts()
    }
    newer = _states(engine, fleet_release(fleet, 2))
    assert newer == {
        h.service_tag: State.DOWNGRADE if h.service_tag == "DEMO012" else State.UPGRADE
        for _, _, h in fleet.hosts()
    }


def test_every_package_is_a_dup_the_twin_installs(fleet: Fleet, tmp_path: Path) -> None:
    catalog = write_mirror(tmp_path, fleet, 1)
    assert catalog == tmp_path / "Catalog.xml"
    packages = fleet_packages(fleet, 1)
    assert {p.component_id for p, _ in packages} == {c.component_id for c in COMPONENTS.values()}
    for package, content in packages:
        file = tmp_path / package.path
        assert file.read_bytes() == content
        assert package.size == len(content)
        assert package.hash_md5 == hashlib.md5(content, usedforsecurity=False).hexdigest()
        info = identify_image(file.name, content)
        assert (info.component.component_id, info.version) == (
            package.component_id,
            package.version,
        )
