"""`idrac-orch dev` end to end: the embedded stack comes up, stops cleanly on Ctrl-C, and a
restart still shows the workflows run before it (Temporal state persisted in data_dir)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from common.settings import Settings
from common.temporal import connect
from tests.services.ports import free_port

STARTUP_TIMEOUT_S = 120


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IDRAC_ORCH_DATA_DIR": str(tmp_path / "state"),
        "IDRAC_ORCH_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "IDRAC_ORCH_TEMPORAL_UI_PORT": str(free_port()),
        "IDRAC_ORCH_API_PORT": str(free_port()),
    }


class DevStack:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.log = cwd / f"dev-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "dev"],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "Press Ctrl-C to stop." not in self.output():
            assert self.process.poll() is None, f"dev exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"dev not up:\n{self.output()}"
            time.sleep(0.5)

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=90)


@pytest.fixture
def stacks(dev_env: dict[str, str], tmp_path: Path) -> Iterator[list[DevStack]]:
    started: list[DevStack] = []
    yield started
    for stack in started:
        if stack.process.poll() is None:
            for child in stack.children():
                child.kill()
            stack.process.kill()


async def _workflow_ids(settings: Settings) -> set[str]:
    client = await connect(settings)
    return {wf.id async for wf in client.list_workflows()}


def test_dev_stack_up_stop_and_restart_keeps_history(
    dev_env: dict[str, str], tmp_path: Path, stacks: list[DevStack]
) -> None:
    settings = Settings(
        temporal_address=dev_env["IDRAC_ORCH_TEMPORAL_ADDRESS"],
        api_port=int(dev_env["IDRAC_ORCH_API_PORT"]),
    )
    first = DevStack(dev_env, tmp_path)
    stacks.append(first)
    first.wait_up()
    ui = f"http://127.0.0.1:{dev_env['IDRAC_ORCH_TEMPORAL_UI_PORT']}"
    assert ui in first.output()

    health = httpx.get(f"http://127.0.0.1:{settings.api_port}/healthz", timeout=10)
    assert health.status_code == 200
    assert {k: v["ok"] for k, v in health.json()["checks"].items()} == {
        "database": True,
        "temporal": True,
    }
    assert httpx.get(ui, timeout=10).status_code == 200
    # dev ran the worker self-test to know the worker was ready: that run is history now.
    before = asyncio.run(_workflow_ids(settings))
    assert any(wf.startswith("selftest-") for wf in before)

    children = first.children()
    assert first.interrupt() == 0
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert "stopped temporal" in first.output()

    second = DevStack(dev_env, tmp_path)
    stacks.append(second)
    second.wait_up()
    after = asyncio.run(_workflow_ids(settings))
    assert before < after  # the earlier runs survived the restart, plus this start's self-test
    assert second.interrupt() == 0


def test_dev_refuses_a_port_in_use(dev_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(dev_env["IDRAC_ORCH_API_PORT"])))
        squatter.listen()
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "dev"],
            env=dev_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"API port 127.0.0.1:{dev_env['IDRAC_ORCH_API_PORT']} is already in use" in result.stderr
