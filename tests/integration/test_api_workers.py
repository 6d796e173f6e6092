"""`idrac-orch api` with IDRAC_ORCH_API_WORKERS=2 on a fresh PostgreSQL database: the
schema is migrated once before the processes start, and both processes serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text

from tests.services.ports import free_port
from tests.services.postgres import fresh_database


def _wait_until_served(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the API exited: {log.read_text()[-2000:]}"
        try:
            if httpx.get(f"{base}/metrics", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the API did not answer within 60 s: {log.read_text()[-2000:]}")


def test_two_api_processes_serve_a_freshly_migrated_database(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "api.log"
    with fresh_database() as url:
        env = {
            **os.environ,
            "IDRAC_ORCH_DATABASE_URL": url,
            "IDRAC_ORCH_SECRET_KEY": uuid.uuid4().hex,
            "IDRAC_ORCH_API_PORT": str(port),
            "IDRAC_ORCH_API_WORKERS": "2",
            "IDRAC_ORCH_LOG_FORMAT": "json",
        }
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "api"], env=env, stdout=output, stderr=output
            )
        try:
            _wait_until_served(f"http://127.0.0.1:{port}", process, log)
            answers = [httpx.get(f"http://127.0.0.1:{port}/metrics").status_code for _ in range(20)]
            # uvicorn starts its worker processes through multiprocessing's spawn_main
            workers = [
                child
                for child in psutil.Process(process.pid).children(recursive=True)
                if "spawn_main" in " ".join(child.cmdline())
            ]
        finally:
            process.terminate()
            process.wait(timeout=30)
        engine = create_engine(url)
        with engine.connect() as connection:
            revisions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        engine.dispose()
    assert answers == [200] * 20
    assert len(workers) == 2
    assert len(revisions) == 1
    assert "Traceback" not in log.read_text()
