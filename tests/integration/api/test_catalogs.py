"""Catalog import through the real API (uvicorn, PostgreSQL): upload or URL, every import
kept, components filtered by the ids applicability uses; bad or hostile input is a 422
naming the line, with nothing stored."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.idrac.catalog import Package, catalog_bytes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalog"


@pytest.fixture(scope="module")
def mirror() -> Iterator[str]:
    """The fixture folder served over plain HTTP on loopback, as a catalog mirror is."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _count(admin: httpx.Client) -> int:
    return int(admin.get("/catalogs", params={"limit": 1}).json()["total"])


@pytest.fixture(scope="module")
def sample(admin: httpx.Client, mirror: str) -> dict[str, Any]:
    """The sample catalog, imported by URL once for the module (the database is the
    session's own: nothing else imports this file)."""
    response = admin.post("/catalogs", json={"url": f"{mirror}/Catalog.xml.gz"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_url_import_keeps_the_manifest(sample: dict[str, Any], mirror: str) -> None:
    catalog = sample
    assert catalog["version"] == "26.10.20" and catalog["release_id"] == "T3P8K"
    assert catalog["base_location"] == "downloads.dell.com"
    assert catalog["software_count"] == 4 and catalog["inventory_count"] == 1
    assert catalog["source"] == f"url:{mirror}/Catalog.xml.gz"
    assert catalog["imported_by"] == "carol"


def test_the_same_xml_uploaded_plain_is_a_conflict_naming_it(
    admin: httpx.Client, sample: dict[str, Any]
) -> None:
    before = _count(admin)
    response = admin.post(
        "/catalogs",
        params={"file_name": "Catalog.xml"},
        content=(FIXTURES / "Catalog.xml").read_bytes(),
    )
    assert response.status_code == 409, response.text
    assert f"already imported as catalog {sample['id']}" in response.json()["detail"]
    assert _count(admin) == before


def test_components_filter_by_the_ids_applicability_uses(
    admin: httpx.Client, sample: dict[str, Any]
) -> None:
    url = f"/catalogs/{sample['id']}/components"

    def names(**params: object) -> list[str]:
        response = admin.get(url, params=params)
        assert response.status_code == 200, response.text
        return [c["package_id"] or c["kind"] for c in response.json()["items"]]

    assert names() == ["inventory", "R2TXW", "9F2KD", "H4VY1", "4301A"]
    assert names(system_id="0x0B1B") == ["R2TXW"]  # the XR5610 gets only the iDRAC
    assert names(system_id="627") == ["H4VY1"]
    assert names(component_id="159") == ["9F2KD"]
    assert names(pci_vendor_id="14e4", pci_device_id="165F") == ["H4VY1"]
    assert names(pci_vendor_id="8086") == []
    assert names(component_type="BIOS") == ["9F2KD"]
    assert names(criticality=2) == ["R2TXW"]
    assert names(reboot_required=False, kind="software") == ["R2TXW", "4301A"]
    [nic] = admin.get(url, params={"component_id": "108255"}).json()["items"]
    assert nic["devices"] == [
        {
            "component_id": "108255",
            "embedded": True,
            "pci": [
                {
                    "vendor_id": "14E4",
                    "device_id": "165F",
                    "sub_vendor_id": "1028",
                    "sub_device_id": "08FF",
                }
            ],
        }
    ]
    assert nic["criticality"] == 3 and nic["criticality_display"] == "Optional"
    assert nic["hash_md5"] == "6f8db599de986fab7a21625b7916589c"


def test_every_import_is_kept_newest_first(admin: httpx.Client) -> None:
    first = admin.post("/catalogs", content=catalog_bytes([Package("159", "2.12.0")], "26.09.01"))
    second = admin.post("/catalogs", content=catalog_bytes([Package("159", "2.13.0")], "26.10.01"))
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    listed = admin.get("/catalogs", params={"limit": 2}).json()["items"]
    assert [c["version"] for c in listed] == ["26.10.01", "26.09.01"]
    assert first.json()["source"] == "upload:catalog"


def test_a_bad_line_is_named_and_nothing_is_stored(admin: httpx.Client) -> None:
    before = _count(admin)
    good = [Package(str(n), "1.0") for n in range(50)]
    bad = Package("159", "2.13.0", systems=(("R650", "R650"),))
    content = catalog_bytes([*good, bad])
    line = content.decode("utf-16")[: content.decode("utf-16").index('"R650"')].count("\n") + 1
    response = admin.post("/catalogs", content=content)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "catalog"]
    assert "Model@systemID: 'R650' is not a Dell SystemID" in error["msg"]
    assert error["msg"].startswith(f"line {line}: ")  # the <Model> line itself, past 1,500
    assert _count(admin) == before


def test_hostile_xml_is_refused(admin: httpx.Client) -> None:
    prolog = '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    response = admin.post("/catalogs", content=catalog_bytes([Package("159", "1")], prolog=prolog))
    assert response.status_code == 422, response.text
    assert "refused" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "file:///etc/hosts"}, "url", "only http:// and https://"),
        ({"url": "ftp://127.0.0.1/Catalog.xml"}, "url", "only http:// and https://"),
        ({"url": 42}, "url", "valid string"),
    ],
)
def test_url_imports_refuse_other_schemes(
    admin: httpx.Client, body: dict[str, str], field: str, message: str
) -> None:
    response = admin.post("/catalogs", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field and message in error["msg"]


def test_a_missing_url_is_named(admin: httpx.Client, mirror: str) -> None:
    response = admin.post("/catalogs", json={"url": f"{mirror}/nothing.xml"})
    assert response.status_code == 422, response.text
    assert "answered HTTP 404" in response.json()["detail"][0]["msg"]


def test_components_of_an_unknown_catalog_are_a_404(admin: httpx.Client) -> None:
    assert admin.get("/catalogs/999999/components").status_code == 404
