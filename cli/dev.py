"""`idrac-orch dev`: the embedded stack under one supervisor.

Starts the Temporal dev server (state kept in data_dir, so a restart resumes), then a
worker and the API as child processes, waits until each is ready, prints the URLs,
and on Ctrl-C stops them in reverse order. If any child dies, everything stops and the
exit code is non-zero, naming the child and its log file.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import typer

from common.settings import Settings, get_settings
from common.signals import stop_event
from common.temporal import connect, temporal_binary
from domain.temporal_names import SEARCH_ATTRIBUTES

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
_SA_TYPES = {"KEYWORD": "Keyword", "TEXT": "Text", "INT": "Int", "DATETIME": "Datetime"}


class DevError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path


def search_attribute_flags() -> list[str]:
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={_SA_TYPES[key.indexed_value_type.name]}"]
    return flags


def temporal_command(binary: str, settings: Settings) -> list[str]:
    command = [
        binary,
        "server",
        "start-dev",
        "--db-filename",
        str((settings.data_dir / "temporal.db").resolve()),
        "--ip",
        settings.temporal_host,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--log-level",
        "warn",
        *search_attribute_flags(),
    ]
    if settings.temporal_namespace != "default":
        command += ["--namespace", settings.temporal_namespace]
    return command


def _require_free(host: str, port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise DevError(f"{what} port {host}:{port} is already in use") from None


def dev_secret_key(settings: Settings) -> str:
    """The configured key, else one generated once and kept in data_dir (embedded stack only)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
        typer.echo(f"no IDRAC_ORCH_SECRET_KEY set: generated a development key in {path}")
    return path.read_text().strip()


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children: list[Child] = []
        self.log_dir = settings.data_dir / "logs"

    def spawn(self, name: str, command: list[str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log_file:
            # Own session: Ctrl-C reaches only the supervisor, which stops children in order.
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self._child_env(),
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def _child_env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "IDRAC_ORCH_SECRET_KEY": dev_secret_key(s),
            "IDRAC_ORCH_DATA_DIR": str(s.data_dir.resolve()),
            "IDRAC_ORCH_DATABASE_URL": s.effective_database_url,
            "IDRAC_ORCH_TEMPORAL_ADDRESS": s.temporal_address,
            "IDRAC_ORCH_TEMPORAL_NAMESPACE": s.temporal_namespace,
            "IDRAC_ORCH_API_HOST": s.api_host,
            "IDRAC_ORCH_API_PORT": str(s.api_port),
            "IDRAC_ORCH_LOG_FORMAT": "json",
            # The dev Web UI may decode payloads through the API (docs/deploy.md).
            "IDRAC_ORCH_CODEC_CORS_ORIGIN": s.codec_cors_origin or ui_url(s),
        }

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise DevError(f"{child.name} exited with code {code}; see {child.log_path}")

    def wait_until(self, what: str, ready: object) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self.check_alive()
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.3)
        raise DevError(f"{what} not ready after {READY_TIMEOUT_S:.0f}s; see {self.log_dir}")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
            typer.echo(f"stopped {child.name}")
        self.children.clear()


def _temporal_ready(settings: Settings) -> bool:
    async def probe() -> None:
        client = await connect(settings)
        await client.service_client.check_health()

    try:
        asyncio.run(asyncio.wait_for(probe(), timeout=3))
    except Exception:
        return False
    return True


def _api_ready(settings: Settings) -> bool:
    try:
        response = httpx.get(f"{api_url(settings)}/healthz", timeout=3)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def api_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def _worker_ready(settings: Settings) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "selftest", "--timeout", "20"],
        capture_output=True,
        check=False,
        env={
            **os.environ,
            "IDRAC_ORCH_TEMPORAL_ADDRESS": settings.temporal_address,
            # the worker's payload key: the self-test's result comes back encrypted
            "IDRAC_ORCH_SECRET_KEY": dev_secret_key(settings),
        },
    )
    return result.returncode == 0


def start_stack(supervisor: Supervisor) -> None:
    """Temporal, then a worker and the API; returns once all three answer."""
    settings = supervisor.settings
    # The stack's databases, logs and keys are owner-only; its children inherit the umask.
    os.umask(0o077)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    binary = temporal_binary()
    _require_free(settings.temporal_host, settings.temporal_port, "Temporal")
    _require_free(settings.temporal_host, settings.temporal_ui_port, "Temporal UI")
    _require_free(settings.api_host, settings.api_port, "API")
    supervisor.spawn("temporal", temporal_command(binary, settings))
    supervisor.wait_until("Temporal", lambda: _temporal_ready(settings))
    supervisor.spawn("worker", [sys.executable, "-m", "cli.main", "worker"])
    supervisor.spawn("api", [sys.executable, "-m", "cli.main", "api"])
    supervisor.wait_until("API", lambda: _api_ready(settings))
    supervisor.wait_until("worker", lambda: _worker_ready(settings))


def ui_url(settings: Settings) -> str:
    return f"http://{settings.temporal_host}:{settings.temporal_ui_port}"


def stack_urls(supervisor: Supervisor) -> list[str]:
    settings = supervisor.settings
    return [
        f"  Temporal Web UI  {ui_url(settings)}",
        f"  Temporal gRPC    {settings.temporal_address}",
        f"  API              {api_url(settings)}  (health: /healthz, docs: /docs)",
        f"  Console          {api_url(settings)}/ui",
        f"  logs             {supervisor.log_dir.resolve()}",
    ]


def run_dev() -> None:
    """Start Temporal (with the Web UI), a worker and the API; stop them all on Ctrl-C."""
    stopping = stop_event()
    supervisor = Supervisor(get_settings())
    try:
        start_stack(supervisor)
        typer.echo("\n".join(["idrac-orch dev is up:", *stack_urls(supervisor)]))
        typer.echo("Press Ctrl-C to stop.")
        wait_for_stop_or_crash(supervisor, stopping)
    except RuntimeError as exc:  # DevError, or a missing temporal binary
        typer.echo(f"error: {exc}", err=True)
        supervisor.stop()
        raise typer.Exit(1) from None
    supervisor.stop()


def wait_for_stop_or_crash(supervisor: Supervisor, stopping: threading.Event) -> None:
    while not stopping.wait(1.0):
        supervisor.check_alive()
    typer.echo("stopping...")
