"""Fetching a catalog's update package (DUP) from where the catalog says it lives, checked
against the catalog's hash while it streams to disk.

Where: Dell's catalog gives ``baseLocation`` (``downloads.dell.com``) and the protocols
to reach it, and each package's ``path`` under it. A catalog imported from a URL on
another host is a mirror (what Dell Repository Manager writes keeps Dell's relative
paths): its packages are fetched from beside the catalog file. A caller may name another
base URL (a local mirror) instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from integrations.catalog.parser import CatalogError
from integrations.catalog.source import check_url

CHUNK = 1024 * 1024


class PackageFetchError(Exception):
    """The package could not be fetched, or is not the catalog's; nothing was kept."""


@dataclass(frozen=True, slots=True)
class Fetched:
    path: Path
    sha256: str
    md5: str
    size: int


def catalog_base(source: str, base_location: str | None, protocols: str | None) -> str | None:
    """The base URL of a catalog's packages (rules in the module doc); None: unknown."""
    if source.startswith("url:"):
        url = source.removeprefix("url:")
        host = urlsplit(url).hostname or ""
        if not base_location or host.lower() != base_location.split("/")[0].lower():
            return url.rsplit("/", 1)[0]
    if not base_location:
        return None
    scheme = "https"
    offered = [p.strip().lower() for p in (protocols or "").split(",") if p.strip()]
    if offered and "https" not in offered and "http" in offered:
        scheme = "http"
    return f"{scheme}://{base_location.strip('/')}"


def package_url(base: str, path: str) -> str:
    url = f"{base.rstrip('/')}/{path.lstrip('/')}"
    try:
        return check_url(url)
    except CatalogError as exc:
        raise PackageFetchError(str(exc)) from None


def fetch(
    url: str,
    into: Path,
    sha256: str | None,
    md5: str | None,
    limit: int,
    timeout_s: float = 600.0,
) -> Fetched:
    """Stream ``url`` to ``into`` (a partial file name), checking the catalog's SHA-256,
    or its MD5 where it gives no SHA-256. The partial file is removed on any failure."""
    if not (sha256 or md5):
        raise PackageFetchError("the catalog gives no hash for this package: it cannot be checked")
    digests, size = (hashlib.sha256(), hashlib.md5(usedforsecurity=False)), 0
    try:
        with (
            httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response,
            into.open("wb") as out,
        ):
            if response.status_code != 200:
                raise PackageFetchError(f"{url} answered HTTP {response.status_code}")
            for chunk in response.iter_bytes(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PackageFetchError(f"{url} is larger than {limit} bytes")
                for digest in digests:
                    digest.update(chunk)
                out.write(chunk)
        got = Fetched(into, digests[0].hexdigest(), digests[1].hexdigest(), size)
        if sha256 and got.sha256 != sha256.lower():
            raise PackageFetchError(f"{url}: SHA-256 differs from the catalog's")
        if not sha256 and md5 and got.md5 != md5.lower():
            raise PackageFetchError(f"{url}: MD5 differs from the catalog's")
        return got
    except httpx.HTTPError as exc:
        into.unlink(missing_ok=True)
        raise PackageFetchError(f"cannot fetch {url}: {type(exc).__name__}") from None
    except BaseException:
        into.unlink(missing_ok=True)
        raise
