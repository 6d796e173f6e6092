"""Bulk import through the CLI and the API: idempotent, all rows or none, bad rows named."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from cli.main import app
from tests.integration.onboarding.conftest import Api

CSV = """address,site,cluster,esxi_host,labels,credential_profile
127.22.9.1,ams,ams-prod,esx-01.lab.test,env=prod;rack=R12,idrac-default
127.22.9.2,ams,ams-prod,,env=prod,
idrac-03.lab.test,,,,,
"""


def _import(api: Api, path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["onboard", "import", str(path), "--api-url", api.url],
        env={"IDRAC_ORCH_API_TOKEN": api.token},
    )
    return result.exit_code, result.stdout, result.stderr


def _enrollments(client: httpx.Client) -> dict[str, dict]:
    return {e["address"]: e for e in client.get("/enrollments").json()["items"]}


def _site_and_cluster(client: httpx.Client) -> tuple[int, int]:
    dc = client.post("/datacenters", json={"name": "ams", "timezone": "Europe/Amsterdam"})
    vc = client.post("/vcenters", json={"name": "vc-ams", "address": "https://vc.lab.test"})
    cluster = client.post("/clusters", json={"name": "ams-prod", "vcenter_id": vc.json()["id"]})
    assert cluster.status_code == 201, cluster.text
    return dc.json()["id"], cluster.json()["id"]


def test_csv_import_is_idempotent_and_resolves_names(api: Api, tmp_path: Path) -> None:
    with api.client() as client:
        dc_id, cluster_id = _site_and_cluster(client)
        path = tmp_path / "idracs.csv"
        path.write_text(CSV)
        assert _import(api, path) == (0, f"{path}: 3 created, 0 updated, 0 unchanged\n", "")
        assert _import(api, path)[1] == f"{path}: 0 created, 0 updated, 3 unchanged\n"
        rows = _enrollments(client)
        first = rows["127.22.9.1"]
        assert (first["datacenter_id"], first["cluster_id"]) == (dc_id, cluster_id)
        assert first["labels"] == {"env": "prod", "rack": "R12"}
        assert first["esxi_host"] == "esx-01.lab.test"
        assert first["credential_profile_id"] is not None and first["source"] == "import"
        assert rows["idrac-03.lab.test"]["datacenter_id"] is None

        # The same addresses in YAML, one of them moved: one update, nothing duplicated.
        yaml_path = tmp_path / "idracs.yaml"
        yaml_path.write_text("- {address: 127.22.9.2, labels: {env: staging}}\n")
        assert _import(api, yaml_path)[1] == f"{yaml_path}: 0 created, 1 updated, 0 unchanged\n"
        assert _enrollments(client)["127.22.9.2"]["labels"] == {"env": "staging"}
        assert len(_enrollments(client)) == 3


def test_a_bad_row_imports_nothing_and_every_problem_is_named(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "address,site,cluster,credential_profile\n"
        "127.22.8.1,ams,,\n"
        "127.22.8.2,nowhere,,\n"
        "127.22.8.3,,no-such-cluster,no-such-profile\n"
        "not an address,,,\n"
    )
    code, out, err = _import(api, path)
    assert code == 1 and out == ""
    for expected in (
        "line 3.site: no datacenter named 'nowhere'",
        "line 4.cluster: no cluster named 'no-such-cluster'",
        "line 4.credential_profile: no credential profile named 'no-such-profile'",
        "line 5.address: is not an IP address or host name",
    ):
        assert expected in err
    with api.client() as client:
        assert "127.22.8.1" not in _enrollments(client)  # the good row was not imported
        raw = client.post(
            "/enrollments/import",
            content=b"address\n10.0.0.1\n",
            headers={"Content-Type": "text/plain"},
        )
        assert raw.status_code == 415
        bomb = "a: &a [x]\n" + "".join(f"b{i}: &b{i} [*a, *a]\n" for i in range(9))
        refused = client.post(
            "/enrollments/import",
            content=bomb.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert refused.status_code == 422
        assert "YAML aliases" in refused.json()["detail"][0]["msg"]
