"""iDRAC and vCenter addresses are validated where they enter the API (create and update)."""

from __future__ import annotations

import uuid

import httpx

LEAKY = "127.20.0.1:19999/#"  # the audit's: the iDRAC login went to another port and path


def test_an_idrac_address_with_port_or_path_is_refused(admin: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:7].upper()
    created = admin.post("/servers", json={"service_tag": tag, "idrac_address": LEAKY})
    assert created.status_code == 422, created.text
    error = created.json()["detail"][0]
    assert error["loc"] == ["body", "idrac_address"] and "no port or path" in error["msg"]
    assert LEAKY not in created.text

    ok = admin.post("/servers", json={"service_tag": tag, "idrac_address": "fe80::a"})
    assert ok.status_code == 201 and ok.json()["idrac_address"] == "[fe80::a]"
    patched = admin.patch(f"/servers/{ok.json()['id']}", json={"idrac_address": "10.0.0.1/x"})
    assert patched.status_code == 422
    assert patched.json()["detail"][0]["loc"] == ["body", "idrac_address"]


def test_a_vcenter_address_must_be_a_plain_https_url(admin: httpx.Client) -> None:
    name = uuid.uuid4().hex
    for address in ("http://vc.example.test/sdk", "https://root:s3cret@vc.example.test/sdk"):
        response = admin.post("/vcenters", json={"name": name, "address": address})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "address"]
        assert "s3cret" not in response.text
    ok = admin.post("/vcenters", json={"name": name, "address": "https://vc.example.test/sdk"})
    assert ok.status_code == 201, ok.text
    patched = admin.patch(f"/vcenters/{ok.json()['id']}", json={"address": "vc:99999"})
    assert patched.status_code == 422 and "port" in patched.json()["detail"][0]["msg"]
