"""Where a catalog's packages are fetched from: Dell's baseLocation, or beside a mirror's
catalog; and only http(s) URLs without credentials."""

from __future__ import annotations

import pytest

from integrations.catalog.packages import PackageFetchError, catalog_base, package_url


@pytest.mark.parametrize(
    ("source", "location", "protocols", "base"),
    [
        ("upload:Catalog.xml", "downloads.dell.com", "HTTPS", "https://downloads.dell.com"),
        ("file:/srv/Catalog.xml", "downloads.dell.com", "HTTP", "http://downloads.dell.com"),
        (
            "url:https://downloads.dell.com/catalog/Catalog.xml.gz",
            "downloads.dell.com",
            "HTTPS",
            "https://downloads.dell.com",
        ),
        (
            "url:http://127.0.0.1:8080/drm/repo/Catalog.xml",
            "downloads.dell.com",
            "HTTPS",
            "http://127.0.0.1:8080/drm/repo",
        ),
        ("url:http://127.0.0.1:8080/Catalog.xml", None, None, "http://127.0.0.1:8080"),
        ("upload:Catalog.xml", None, None, None),
    ],
)
def test_packages_come_from_the_base_location_or_beside_a_mirrors_catalog(
    source: str, location: str | None, protocols: str | None, base: str | None
) -> None:
    assert catalog_base(source, location, protocols) == base


def test_a_package_url_joins_base_and_path() -> None:
    assert (
        package_url("http://127.0.0.1:8080/repo/", "/FOLDER1/1/BIOS.EXE")
        == "http://127.0.0.1:8080/repo/FOLDER1/1/BIOS.EXE"
    )
    with pytest.raises(PackageFetchError, match="user info"):
        package_url("http://user:pw@127.0.0.1", "x.EXE")
