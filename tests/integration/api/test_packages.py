"""Package files are shared by content, survive the deletion of a twin, and are not pulled
from under a campaign; a re-upload under a new name retires the old one."""

from __future__ import annotations

import hashlib
import uuid

import httpx

from tests.integration.api.conftest import Api
from tests.integration.api.test_campaigns import _spec


def _package(admin: httpx.Client, content: bytes, file_name: str) -> dict[str, object]:
    digest = hashlib.sha256(content).hexdigest()
    row = admin.post(
        "/packages",
        json={
            "name": "twin",
            "component_id": "159",
            "version": uuid.uuid4().hex[:12],
            "sha256": digest,
        },
    ).json()
    uploaded = admin.put(
        f"/packages/{row['id']}/file", params={"file_name": file_name}, content=content
    )
    assert uploaded.status_code == 200, uploaded.text
    return uploaded.json()


def test_deleting_one_of_two_packages_sharing_a_file_keeps_it_served(
    admin: httpx.Client,
) -> None:
    content = uuid.uuid4().bytes * 1000
    first, second = _package(admin, content, "SAME.EXE"), _package(admin, content, "SAME.EXE")
    assert first["download_path"] == second["download_path"]
    assert admin.delete(f"/packages/{first['id']}").status_code == 204
    assert admin.get(str(second["download_path"])).content == content
    assert admin.delete(f"/packages/{second['id']}").status_code == 204
    assert admin.get(str(second["download_path"])).status_code == 404  # last user gone


def test_a_reupload_under_a_new_name_retires_the_old_name(admin: httpx.Client) -> None:
    content = uuid.uuid4().bytes * 1000
    package = _package(admin, content, "OLD.EXE")
    renamed = admin.put(
        f"/packages/{package['id']}/file", params={"file_name": "NEW.EXE"}, content=content
    ).json()
    assert admin.get(str(package["download_path"])).status_code == 404
    assert admin.get(str(renamed["download_path"])).content == content


async def test_a_package_an_unfinished_campaign_installs_cannot_be_deleted(
    api: Api, tokens: dict[str, str]
) -> None:
    spec = await _spec(api, tokens)
    package_id = spec["firmware"][0]["package_id"]
    async with api.async_client(tokens["operator"]) as operator:
        created = await operator.post("/campaigns", json={"name": "uses", "spec": spec})
    assert created.status_code == 201, created.text
    async with api.async_client(tokens["admin"]) as admin:
        refused = await admin.delete(f"/packages/{package_id}")
        assert refused.status_code == 409, refused.text
        assert f"campaign(s) {created.json()['id']}" in refused.json()["detail"]
        assert (await admin.get(f"/packages/{package_id}")).status_code == 200
