"""Packages from the catalog through the real API (uvicorn, PostgreSQL, a loopback HTTP
mirror): a baseline's packages fetched on demand and checked against the catalog's hash,
then remediated; a DUP upload matched to its catalog entry by hash or refused by name."""

from __future__ import annotations

import functools
import hashlib
import random
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.idrac.catalog import Package, catalog_bytes
from tests.integration.api.baseline_lab import R650, Lab, created, inventory, unique


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over plain HTTP on loopback, as a Dell Repository Manager mirror."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=tmp_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _content(name: str) -> bytes:
    return f"Dell Update Package {name} {random.random()}".encode() * 100


def _publish(
    admin: httpx.Client, folder: Path, url: str, packages: dict[Package, bytes]
) -> dict[str, Any]:
    """Write the catalog and its DUPs into the mirror, import the catalog by URL."""
    (folder / "Catalog.xml").write_bytes(catalog_bytes(list(packages)))
    catalog = created(admin.post("/catalogs", json={"url": f"{url}/Catalog.xml"}))
    components = admin.get(f"/catalogs/{catalog['id']}/components").json()["items"]
    by_version = {p.version: data for p, data in packages.items()}
    for component in components:
        if component["kind"] == "software":
            path = folder / component["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(by_version[component["vendor_version"]])
    return catalog


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def versions() -> dict[str, str]:
    n = random.randrange(100, 10_000)
    return {"159": f"2.98.{n}", "25227": f"7.98.{n}.00"}


def _lab(admin: httpx.Client, catalog: dict[str, Any]) -> Lab:
    lab = Lab(admin, [])
    lab.catalog = catalog
    lab.host("both", 0, inventory("2.10.0", idrac="7.00.00.00"))
    return lab


def test_a_baselines_packages_are_fetched_checked_and_remediated(
    admin: httpx.Client,
    mirror: tuple[Path, str],
    versions: dict[str, str],
    package_dir: Path,
) -> None:
    bios, idrac = _content("bios"), _content("idrac")
    packages = {
        Package(
            "159", versions["159"], R650, name="BIOS", extra=f' hashSHA256="{_sha(bios)}"'
        ): bios,
        Package(
            "25227", versions["25227"], R650, name="iDRAC", extra=f' hashSHA256="{_sha(idrac)}"'
        ): idrac,
    }
    lab = _lab(admin, _publish(admin, *mirror, packages))
    baseline = lab.baseline()
    url = f"/baselines/{baseline['id']}/packages"
    response = admin.post(url, json={})
    assert response.status_code == 200, response.text
    fetched = {p["component_id"]: p for p in response.json()["packages"]}
    assert {c: p["outcome"] for c, p in fetched.items()} == {"159": "fetched", "25227": "fetched"}
    package = fetched["159"]["package"]
    assert (package["component_id"], package["version"]) == ("159", versions["159"])
    assert package["sha256"] == _sha(bios) and package["size_bytes"] == len(bios)
    served = admin.get(package["download_path"])
    assert served.status_code == 200 and served.content == bios
    again = admin.post(url, json={}).json()["packages"]
    assert {p["outcome"] for p in again} == {"present"}
    campaign = admin.post(f"/baselines/{baseline['id']}/remediation", json={})
    assert campaign.status_code == 201, campaign.text
    firmware = campaign.json()["campaigns"][0]["spec"]["firmware"]
    assert {f["package_id"] for f in firmware} == {p["package"]["id"] for p in fetched.values()}
    assert not list(package_dir.glob(".fetch-*"))


def test_a_download_whose_hash_differs_is_refused_and_nothing_is_kept(
    admin: httpx.Client, mirror: tuple[Path, str], versions: dict[str, str], package_dir: Path
) -> None:
    # The twin's catalogs carry an MD5 no file has: the MD5 check must refuse it.
    packages = {Package("159", versions["159"], R650, name="BIOS"): _content("bios")}
    lab = _lab(admin, _publish(admin, *mirror, packages))
    baseline = lab.baseline()
    response = admin.post(f"/baselines/{baseline['id']}/packages", json={})
    assert response.status_code == 502, response.text
    assert "MD5 differs from the catalog's" in response.json()["detail"]
    listed = admin.get("/packages", params={"component_id": "159", "limit": 500}).json()["items"]
    assert all(p["version"] != versions["159"] for p in listed)
    assert not list(package_dir.glob(".fetch-*"))


def test_a_base_url_must_be_http(
    admin: httpx.Client, mirror: tuple[Path, str], versions: dict[str, str]
) -> None:
    packages = {Package("159", versions["159"], R650): _content("bios")}
    lab = _lab(admin, _publish(admin, *mirror, packages))
    baseline = lab.baseline()
    response = admin.post(f"/baselines/{baseline['id']}/packages", json={"base_url": "ftp://x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "base_url"]


def test_an_upload_is_matched_to_its_catalog_entry(
    admin: httpx.Client, mirror: tuple[Path, str], versions: dict[str, str]
) -> None:
    dup = _content("dup")
    package = Package("159", versions["159"], R650, name="BIOS", extra=f' hashSHA256="{_sha(dup)}"')
    catalog = _publish(admin, *mirror, {package: dup})
    response = admin.post("/packages/match", params={"file_name": "renamed.EXE"}, content=dup)
    assert response.status_code == 201, response.text
    matched = response.json()
    assert (matched["catalog_id"], matched["matched_by"]) == (catalog["id"], "sha256")
    stored = matched["package"]
    assert (stored["component_id"], stored["version"]) == ("159", versions["159"])
    assert admin.get(stored["download_path"]).content == dup


def test_an_upload_matching_nothing_or_only_a_name_is_refused(
    admin: httpx.Client, mirror: tuple[Path, str], versions: dict[str, str]
) -> None:
    package = Package("159", versions["159"], R650)  # the catalog lists a (random) MD5
    catalog = _publish(admin, *mirror, {package: b"x"})
    path = admin.get(f"/catalogs/{catalog['id']}/components").json()["items"][-1]["path"]
    name_only = admin.post(
        "/packages/match", params={"file_name": path.rsplit("/", 1)[-1]}, content=b"other bytes"
    )
    assert name_only.status_code == 422, name_only.text
    assert "hash differs" in name_only.json()["detail"][0]["msg"]
    nothing = admin.post(
        "/packages/match", params={"file_name": f"{unique('none')}.EXE"}, content=b"?" * 10
    )
    assert nothing.status_code == 422
    assert "matches no catalog entry" in nothing.json()["detail"][0]["msg"]
