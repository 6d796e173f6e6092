"""`idrac-orch catalog import|list` against the real API: a mirror folder, a bad file
(exit 1 with the API's reason, line included), a missing path (exit 2)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from cli.main import app
from simulators.idrac.catalog import Package, catalog_bytes
from tests.integration.api.conftest import Api


def run(api: Api, token: str, *args: str) -> Result:
    env = {"IDRAC_ORCH_API_URL": api.url, "IDRAC_ORCH_API_TOKEN": token}
    return CliRunner().invoke(app, ["catalog", *args], env=env)


def test_import_a_mirror_folder_then_list(api: Api, tokens: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "Catalog.xml").write_bytes(catalog_bytes([Package("159", "2.13.0")], "26.11.30"))
    (tmp_path / "FOLDER0001M").mkdir()  # what DRM writes next to the catalog
    imported = run(api, tokens["admin"], "import", str(tmp_path))
    assert imported.exit_code == 0, imported.output
    assert "Dell 26.11.30" in imported.output and "1 packages" in imported.output
    assert "from upload:Catalog.xml" in imported.output
    listed = run(api, tokens["viewer"], "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["version"] == "26.11.30"  # newest first


def test_a_gzip_file_imports(api: Api, tokens: dict[str, str], tmp_path: Path) -> None:
    packed = tmp_path / "Catalog.xml.gz"
    packed.write_bytes(gzip.compress(catalog_bytes([Package("159", "2.13.0")], "26.12.24")))
    result = run(api, tokens["admin"], "import", str(packed), "--json")
    assert result.exit_code == 0, result.output
    catalog = json.loads(result.output)
    assert catalog["version"] == "26.12.24" and catalog["source"] == "upload:Catalog.xml.gz"


def test_a_bad_catalog_exits_1_naming_the_line(
    api: Api, tokens: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "Catalog.xml"
    bad.write_bytes(catalog_bytes([Package("159", "2.13.0", size="huge")]))
    result = run(api, tokens["admin"], "import", str(bad))
    assert result.exit_code == 1, result.output
    assert "line 3: SoftwareComponent@size: 'huge' is not a byte count" in result.output


def test_a_viewer_cannot_import(api: Api, tokens: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "Catalog.xml").write_bytes(catalog_bytes([Package("159", "2.13.0")]))
    result = run(api, tokens["viewer"], "import", str(tmp_path / "Catalog.xml"))
    assert result.exit_code == 1 and "requires role admin" in result.output


def test_a_missing_path_exits_2(api: Api, tokens: dict[str, str], tmp_path: Path) -> None:
    result = run(api, tokens["admin"], "import", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "no such file or folder" in result.output
