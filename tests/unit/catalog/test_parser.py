"""Reading Dell catalogs: UTF-16 with a BOM, gzip, mirror folders, every attribute the
import keeps; hostile XML refused; bad input named by line and field."""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pytest

from domain.catalog import CatalogComponent, Criticality, PciId, SupportedSystem
from integrations.catalog.parser import CatalogError, CatalogReader
from integrations.catalog.source import CountingReader, check_url, find_catalog, open_local
from simulators.idrac.catalog import Package, catalog_bytes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalog"


def read(data: bytes) -> tuple[CatalogReader, list[CatalogComponent]]:
    reader = CatalogReader(CountingReader(io.BytesIO(data)))
    return reader, list(reader)


def test_the_utf16_sample_reads_completely() -> None:
    raw = (FIXTURES / "Catalog.xml").read_bytes()
    assert raw[:2] == b"\xff\xfe"  # as Dell ships it
    reader, components = read(raw)
    manifest = reader.manifest
    assert (manifest.version, manifest.release_id) == ("26.10.20", "T3P8K")
    assert manifest.base_location == "downloads.dell.com"
    assert manifest.base_location_protocols == "HTTPS"
    assert manifest.date_time == "2026-10-20T02:11:40+05:30"
    assert [c.kind for c in components] == ["inventory", *["software"] * 4]  # no bundle
    idrac, bios, nic, diags = components[1:]
    assert idrac.devices[0].component_id == "25227" and idrac.devices[0].embedded
    assert idrac.criticality == Criticality(2, "Urgent")
    assert idrac.reboot_required is False and idrac.package_type == "LW64"
    assert idrac.systems == (
        SupportedSystem("0912", "PE", "R650"),
        SupportedSystem("0B1B", "PE", "XR5610"),
    )
    assert idrac.vendor_version == "7.10.30.00" and idrac.dell_version == "A00"
    assert idrac.size == 293601280 and idrac.hash_md5 == "5d41402abc4b2a76b9719d911017c592"
    assert idrac.file_name.endswith("_7.10.30.00_A00.EXE")
    assert bios.component_type == "BIOS" and bios.category == "BI"
    assert bios.hash_sha256 == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert nic.devices[0].pci == (PciId("14E4", "165F", "1028", "08FF"),)
    assert diags.systems[0].system_id == "0912"  # "912" in the file: Dell drops zeros
    assert idrac.line == 7 and components[0].line == 6


def test_gzip_and_plain_are_the_same_catalog() -> None:
    plain = CountingReader((FIXTURES / "Catalog.xml").open("rb"))
    packed = CountingReader((FIXTURES / "Catalog.xml.gz").open("rb"))
    assert list(CatalogReader(plain)) == list(CatalogReader(packed))
    assert packed.compressed and not plain.compressed
    assert plain.sha256 == packed.sha256


def test_a_mirror_folder_is_found_by_its_catalog(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "Catalog.xml.gz", tmp_path / "R650_repository.xml.gz")
    (tmp_path / "FOLDER12990412M").mkdir()
    assert find_catalog(tmp_path).name == "R650_repository.xml.gz"
    stream, source = open_local(tmp_path)
    stream.close()
    assert source.startswith("folder:")
    shutil.copy(FIXTURES / "Catalog.xml", tmp_path / "other.xml")
    with pytest.raises(CatalogError, match="cannot tell which file"):
        find_catalog(tmp_path)
    shutil.copy(FIXTURES / "Catalog.xml", tmp_path / "Catalog.xml")
    assert find_catalog(tmp_path).name == "Catalog.xml"  # Dell's name wins


def test_utf8_catalogs_read_too() -> None:
    text = catalog_bytes([Package("159", "2.13.0")]).decode("utf-16")
    _, [component] = read(text.replace('encoding="utf-16"', 'encoding="utf-8"').encode())
    assert component.vendor_version == "2.13.0"


BILLION_LAUGHS = """<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
"""
XXE = '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, XXE, '<!DOCTYPE Manifest SYSTEM "x.dtd">\n'])
def test_hostile_xml_is_refused_before_any_component(prolog: str) -> None:
    data = catalog_bytes([Package("159", "2.13.0")], prolog=prolog)
    reader = CatalogReader(CountingReader(io.BytesIO(data)))
    with pytest.raises(CatalogError, match=r"refused: .*DTD"):
        next(iter(reader))


def test_a_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"<" * 5_000_000)
    reader = CountingReader(io.BytesIO(bomb), limit=1_000_000)
    with pytest.raises(CatalogError, match="larger than 1000000 bytes once decompressed"):
        while reader.read(65536):
            pass


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (Package("159", "1.0", size="12MB"), r"line 33: SoftwareComponent@size: '12MB'"),
        (Package("159", "1.0", extra=' hashSHA256="abc"'), r"line 33: .*@SHA-256: 'abc'"),
        (Package("159", "1.0", systems=(("R650", "R650"),)), r"Model@systemID: 'R650'"),
        (Package("159", "1.0", criticality=0), None),
    ],
)
def test_bad_values_name_line_and_field(package: Package, message: str | None) -> None:
    data = catalog_bytes([Package("25227", "7.10.30.00"), package])
    if message is None:
        _, components = read(data)
        assert len(components) == 2
        return
    with pytest.raises(CatalogError, match=message):
        read(data)


def test_duplicate_attribute_is_not_well_formed_with_its_line() -> None:
    data = catalog_bytes([Package("159", "1.0", extra=' size="1"')])
    with pytest.raises(CatalogError, match=r"not well-formed XML: duplicate attribute: line 3"):
        read(data)


def test_missing_version_and_wrong_root_are_named() -> None:
    text = catalog_bytes([Package("159", "1.0")]).decode("utf-16")
    with pytest.raises(CatalogError, match=r"line 3: SoftwareComponent@vendorVersion: missing"):
        read(text.replace('vendorVersion="1.0"', "").encode("utf-16"))
    with pytest.raises(CatalogError, match=r"root element is <Catalog>, expected <Manifest>"):
        read(b'<?xml version="1.0"?><Catalog/>')
    with pytest.raises(CatalogError, match="not well-formed"):
        read(b"")


def test_criticality_keeps_unknown_codes() -> None:
    _, [component] = read(catalog_bytes([Package("159", "1.0", criticality=7)]))
    assert component.criticality == Criticality(7, "Other")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://downloads.dell.com/Catalog.xml", "gopher://x", "//x"]
)
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(CatalogError, match="only http:// and https://"):
        check_url(url)


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(CatalogError, match="user info"):
        check_url("https://user:pw@mirror.example.test/Catalog.xml")
