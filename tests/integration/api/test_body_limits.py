"""Request bodies are bounded before they are parsed or the caller is authenticated."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx

from api.body_limit import DEFAULT_LIMIT
from tests.integration.api.conftest import Api

OVERSIZED = DEFAULT_LIMIT * 32  # 2 MiB


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent chunked, without Content-Length."""
    for _ in range(total // size):
        yield b" " * size


def test_oversized_body_is_413_before_authentication(api: Api) -> None:
    with api.client() as anonymous:  # no token: today this read the whole body, then 401
        declared = anonymous.post(
            "/datacenters",
            content=b'{"name": "' + b"x" * OVERSIZED + b'"}',
            headers={"Content-Type": "application/json"},
        )
        chunked = anonymous.post(
            "/datacenters",
            content=_chunks(OVERSIZED),
            headers={"Content-Type": "application/json"},
        )
    assert declared.status_code == 413, declared.text
    assert str(DEFAULT_LIMIT) in declared.json()["detail"]
    assert chunked.status_code == 413, chunked.text


def test_small_bodies_and_streamed_uploads_still_pass(api: Api, admin: httpx.Client) -> None:
    with api.client() as anonymous:
        assert anonymous.post("/datacenters", json={"name": "x"}).status_code == 401
    content = b"\x00" * (OVERSIZED + 1)  # far above the JSON limit: uploads stream
    digest = hashlib.sha256(content).hexdigest()
    package = admin.post(
        "/packages",
        json={"name": "big", "component_id": "159", "version": digest[:16], "sha256": digest},
    ).json()
    uploaded = admin.put(
        f"/packages/{package['id']}/file", params={"file_name": "BIG.EXE"}, content=content
    )
    assert uploaded.status_code == 200, uploaded.text
    assert admin.delete(f"/packages/{package['id']}").status_code == 204
