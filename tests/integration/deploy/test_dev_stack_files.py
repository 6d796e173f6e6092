"""`idrac-orch dev` leaves nothing in its data directory that other local users can read
(the SQLite store, Temporal's database, the generated secret key, the logs), and its Web
UI may call the API's codec server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from tests.e2e.test_dev_stack import DevStack
from tests.services.ports import free_port


def test_dev_stack_files_are_owner_only_and_its_ui_may_decode(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IDRAC_ORCH_")},
        "IDRAC_ORCH_DATA_DIR": str(data_dir),
        "IDRAC_ORCH_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "IDRAC_ORCH_TEMPORAL_UI_PORT": str(free_port()),
        "IDRAC_ORCH_API_PORT": str(free_port()),
    }
    stack = DevStack(env, tmp_path)
    try:
        stack.wait_up()
        written = [data_dir, *data_dir.rglob("*")]
        names = {p.relative_to(data_dir).as_posix() for p in written}
        assert {"idrac-orch.db", "temporal.db", "dev-secret-key", "logs/api.log"} <= names
        readable = {
            p.relative_to(data_dir).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
            for p in written
            if stat.S_IMODE(p.stat().st_mode) & 0o077
        }
        assert readable == {}

        ui = f"http://127.0.0.1:{env['IDRAC_ORCH_TEMPORAL_UI_PORT']}"
        preflight = httpx.options(
            f"http://127.0.0.1:{env['IDRAC_ORCH_API_PORT']}/codec/decode",
            headers={"Origin": ui, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert preflight.headers.get("access-control-allow-origin") == ui
    finally:
        assert stack.interrupt() == 0
