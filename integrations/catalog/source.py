"""Where a catalog comes from: a file (``.xml`` or ``.xml.gz``), a mirror folder that Dell
Repository Manager wrote, or an http(s) URL; and the byte stream the parser reads.

Sizes are capped before and after decompression (a small ``.gz`` can inflate without
bound), and the SHA-256 of the XML itself is computed while it is read: the same catalog
imported as ``.xml`` or ``.xml.gz`` is the same catalog.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from integrations.catalog.parser import CatalogError

MAX_DOWNLOAD_BYTES = 1024**3
"""A download or upload (Dell's Catalog.xml.gz is ~20 MB; a DRM mirror's is smaller)."""
MAX_XML_BYTES = 4 * 1024**3
"""Decompressed XML (UTF-16 doubles Dell's ~300 MB of text)."""
CATALOG_NAMES = ("Catalog.xml.gz", "Catalog.xml", "catalog.xml.gz", "catalog.xml")
_GZIP_MAGIC = b"\x1f\x8b"


class CountingReader:
    """Reads the (decompressed) XML, hashing it and refusing it past ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], limit: int = MAX_XML_BYTES) -> None:
        head = raw.read(2)
        raw.seek(0)
        self._inner: IO[bytes] = gzip.GzipFile(fileobj=raw) if head == _GZIP_MAGIC else raw
        self.compressed = head == _GZIP_MAGIC
        self._limit, self.size = limit, 0
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self._inner.read(size)
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise CatalogError(f"not a readable gzip file: {exc}") from None
        self.size += len(chunk)
        if self.size > self._limit:
            raise CatalogError(f"larger than {self._limit} bytes once decompressed")
        self._digest.update(chunk)
        return chunk

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def find_catalog(path: Path) -> Path:
    """The catalog file itself, or the one inside a mirror folder."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise CatalogError(f"{path}: no such file or folder")
    for name in CATALOG_NAMES:
        if (path / name).is_file():
            return path / name
    # DRM names the catalog after the repository: the only .xml(.gz) at the top.
    candidates = sorted(p for p in path.iterdir() if p.name.endswith((".xml", ".xml.gz")))
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(p.name for p in candidates) or "none"
    raise CatalogError(
        f"{path}: cannot tell which file is the catalog (XML files found: {found}); "
        "name the file instead of the folder"
    )


def check_url(url: str) -> str:
    """Only http(s), with a host and without credentials (they would be logged and stored)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CatalogError(f"url: {parts.scheme or 'no'} scheme; only http:// and https://")
    if not parts.hostname:
        raise CatalogError("url: no host")
    if parts.username or parts.password:
        raise CatalogError("url: must not carry user info; credentials do not belong in a URL")
    return url


def download(url: str, timeout_s: float = 60.0) -> IO[bytes]:
    """The URL's body in a temporary file (deleted when closed), at most MAX_DOWNLOAD_BYTES."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (returned to the caller, who closes it)
    try:
        with httpx.stream(
            "GET", check_url(url), timeout=timeout_s, follow_redirects=True
        ) as response:
            if response.status_code != 200:
                raise CatalogError(f"url: {url} answered HTTP {response.status_code}")
            copy_capped(response.iter_bytes(), spool)
    except httpx.HTTPError as exc:
        spool.close()
        raise CatalogError(f"url: cannot fetch {url}: {exc}") from None
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def copy_capped(chunks: Iterable[bytes], out: IO[bytes], limit: int = MAX_DOWNLOAD_BYTES) -> int:
    """Write an iterable of byte chunks, refusing more than ``limit`` bytes."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise CatalogError(f"larger than {limit} bytes")
        out.write(chunk)
    return total


def open_local(path: Path) -> tuple[IO[bytes], str]:
    """An open catalog file and how to describe its source (file or mirror folder)."""
    catalog = find_catalog(path)
    kind = "folder" if path.is_dir() else "file"
    return catalog.open("rb"), f"{kind}:{catalog.resolve()}"
