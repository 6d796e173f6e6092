"""`idrac-orch demo` end to end, as `make demo` runs it. First the firmware lifecycle: the
twin's next Dell release is imported from a loopback mirror, the fleet is measured against
a baseline of it (every host off it, the one running a newer BIOS a downgrade), nyc-prod's
packages are fetched and its remediation campaign brings it onto the baseline while the
other clusters stay as they were. Then the BIOS campaign over the simulated datacenter
ends with the faulty host failed (its job changed nothing: back in service), the compliant
one skipped and the other ten updated, the campaign reads "completed with failures" (its
own result; its workflow completed). Then the failed host, run again with an update that
does not take, is held, and its notification reaches a local webhook receiver and a local
SMTP server. Every process it started is gone afterwards."""

from __future__ import annotations

import os
import re
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
    reports = _between(output, "Compliance before", "Compliance after", "Campaign 2 ")
    report_before, report_after = reports
    assert "fleet: 12 hosts, 0.0% compliant (11 upgrade, 1 downgrade)" in report_before
    assert "cluster nyc-prod: 4 hosts, 0.0% compliant (4 upgrade)" in report_before
    assert "fleet: 12 hosts, 33.3% compliant (4 compliant, 7 upgrade, 1 downgrade)" in report_after
    assert "cluster nyc-prod: 4 hosts, 100.0% compliant (4 compliant)" in report_after
    assert "cluster ams-edge: 3 hosts, 0.0% compliant (2 upgrade, 1 downgrade)" in report_after
    for tag in ("DEMO021", "DEMO022", "DEMO023", "DEMO024"):
        assert f"compliant       esx-nyc-0{tag[-1]}.demo.test [{tag}]" in report_after
    assert output.count("  fetched  ") == 5  # nyc-prod's packages, CPLD excluded
    assert "Campaign 1 ended: completed\n" in output
    assert "Remediation of nyc-prod: as expected" in output
    assert output.count("  updated      DEMO") == 4 + 10  # remediation, then BIOS
    assert "Campaign 2 ended: completed with failures" in output
    assert "PROBLEM" not in output
    # The failed host once more, its update not taking, policy hold: held, and its host.held
    # reaches the local webhook receiver (signed) and the local SMTP server (STARTTLS).
    assert "held         DEMO004" in output
    assert "Campaign 3 ended: completed with failures" in output
    assert re.search(
        r"^Held host DEMO004: webhook delivery received by the local receiver "
        r"http://127\.0\.0\.1:\d+/demo-hook \(host\.held, signature verified\)$",
        output,
        re.MULTILINE,
    ), output
    assert re.search(
        r"^Held host DEMO004: e-mail received by the local SMTP server 127\.0\.0\.1:\d+ "
        r"\(STARTTLS\) for oncall@demo\.test: \[idrac-orch\] host\.held: host DEMO004 "
        r"\(campaign 3\)$",
        output,
        re.MULTILINE,
    ), output
    assert f"http://127.0.0.1:{env['IDRAC_ORCH_TEMPORAL_UI_PORT']}" in output
    leftovers = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not leftovers


def _between(output: str, first: str, second: str, end: str) -> tuple[str, str]:
    """The text of two reports: from FIRST to SECOND, and from SECOND to END."""
    start, middle = output.index(first), output.index(second)
    return output[start:middle], output[middle : output.index(end, middle)]
