"""DMTF's own Redfish tools (redfish-utilities, installed with the validator) against every
personality: a third-party client must get the same answers ours does.

``rf_update.py`` follows the task monitor while it answers 202 and takes the first other
answer as the end: a task that 404s right after its 202 or right after it ends makes it
report a missing resource instead of the result (issue 15).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.idrac.personality import PERSONALITIES
from tests.integration.redfish.personality_hosts import (
    KINDS,
    Hosts,
    personality_hosts,
    push,
    reset,
)

TOOLS = Path(sys.executable).parent
DIAGS = "Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE"


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    # Slow enough that the tool's 1 s polls see the job running before it ends.
    with personality_hosts(tmp_path_factory.mktemp("sim"), copies=2, time_scale=0.03) as hosts:
        yield hosts


def _tool(name: str, url: str, *args: str) -> str:
    completed = subprocess.run(
        [str(TOOLS / name), "--rhost", url, "--user", "root", "--password", "calvin", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_dmtf_update_tool_reports_the_finished_update(
    pool: Hosts, kind: str, tmp_path: Path
) -> None:
    host = pool.take(kind)
    image = tmp_path / DIAGS
    image.write_bytes(b"MZ fake DUP\n")
    output = _tool("rf_update.py", host.url, "--image", str(image))
    assert "Task is Done!" in output
    assert "not found" not in output and "Failed" not in output, output
    # Done means done: the version is installed by the time the tool says so.
    assert host.state()["firmware"]["diagnostics"] == "4302A01"


@pytest.mark.parametrize("kind", list(PERSONALITIES))
def test_dmtf_log_tool_reads_the_lifecycle_log(pool: Hosts, kind: str) -> None:
    host = pool.take(kind)
    with host.client() as client:
        location = push(client, DIAGS).headers["Location"]
        job_id = location.rsplit("/", 1)[1]
        host.wait_until_settled()
        reset(client)
        host.wait_for("rebooted", lambda: "System is turning on." in _tool_log(host.url))
    output = _tool_log(host.url)
    assert f"The (installation or configuration) job {job_id} is successfully completed." in (
        output
    )


def _tool_log(url: str) -> str:
    return _tool("rf_logs.py", url, "--manager", "iDRAC.Embedded.1", "--log", "Lclog")
