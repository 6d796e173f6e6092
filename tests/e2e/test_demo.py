"""`idrac-orch demo` end to end, as `make demo` runs it: the campaign over the simulated
datacenter ends with the faulty host failed (its job changed nothing: back in service),
the compliant one skipped and the other ten updated, the campaign reads "completed with
failures" (its own result; its workflow completed), and every process it started is gone
afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from tests.services.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_campaign_ends_as_expected(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IDRAC_ORCH_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "IDRAC_ORCH_TEMPORAL_UI_PORT": str(free_port()),
        "IDRAC_ORCH_API_PORT": str(free_port()),
    }
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--fleet",
            str(ROOT / "examples" / "fleet-demo.yaml"),
            "--vcenter-port",
            str(free_port()),
            "--idrac-port",
            str(free_port("127.20.0.1")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Result: as expected" in output
    assert "failed       DEMO004" in output and "RED007" in output
    assert "159 1.10.2 -> 1.10.2 unchanged" in output  # per component, under its host
    assert "compliant    DEMO012" in output
    assert output.count("  updated      DEMO") == 10
    assert "Campaign 1 ended: completed with failures" in output
    assert "PROBLEM" not in output
    assert f"http://127.0.0.1:{env['IDRAC_ORCH_TEMPORAL_UI_PORT']}" in output
    leftovers = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not leftovers
