"""The service's parts as their own processes, configured by IDRAC_ORCH_* as in production,
so that a test can kill -9 one of them (worker, API, Temporal dev server) and restart it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.security import hash_password
from tests.integration.campaign.lab import Lab
from tests.services.ports import free_port
from tests.services.temporal import TemporalDevServer

API_READY_TIMEOUT_S = 120.0
API_USER = "chaos-admin"
API_PASSWORD = "chaos-Admin-Pass-4711"


class ServiceProcess:
    """One `idrac-orch <command>` process; `kill` is kill -9, `stop` a graceful SIGTERM."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", self.command],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _lab_env(lab: Lab, temporal: TemporalDevServer) -> dict[str, str]:
    """What every part needs to find Temporal, the database and the secrets."""
    settings = lab.settings
    return {
        **os.environ,
        "IDRAC_ORCH_TEMPORAL_ADDRESS": temporal.address,
        "IDRAC_ORCH_DATABASE_URL": settings.effective_database_url,
        "IDRAC_ORCH_SECRET_KEY": settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
        "IDRAC_ORCH_LOG_LEVEL": "WARNING",
    }


class WorkerProcess(ServiceProcess):
    """`idrac-orch worker`, pointed at the lab and polling fast (the lab's time scale)."""

    def __init__(self, lab: Lab, temporal: TemporalDevServer, log: Path) -> None:
        settings = lab.settings
        env = {
            **_lab_env(lab, temporal),
            "IDRAC_ORCH_PACKAGE_REPOSITORY_URL": settings.effective_package_repository_url,
            "IDRAC_ORCH_IDRAC_PORT": str(settings.idrac_port),
            "IDRAC_ORCH_IDRAC_CA_BUNDLE": str(lab.idrac.ca_path),
            "IDRAC_ORCH_IDRAC_POLL_INTERVAL_S": "0.05",
            "IDRAC_ORCH_VCENTER_INSECURE": "true",
            "IDRAC_ORCH_VCENTER_POLL_INTERVAL_S": "0.2",
            "IDRAC_ORCH_ACTIVITY_HEARTBEAT_TIMEOUT_S": "3",
            # No scheduled sync or sweep may add requests to a measured campaign.
            "IDRAC_ORCH_VCENTER_SYNC_INTERVAL_MINUTES": "0",
            "IDRAC_ORCH_INVENTORY_SWEEP_INTERVAL_MINUTES": "0",
        }
        super().__init__("worker", env, log)

    def identity_pid(self, identity: str) -> bool:
        """Whether a Temporal worker identity (default ``pid@host``) is this process."""
        return self.pid is not None and identity.split("@", 1)[0] == str(self.pid)


class ApiProcess(ServiceProcess):
    """`idrac-orch api` on a free loopback port, with a break-glass admin login."""

    def __init__(self, lab: Lab, temporal: TemporalDevServer, data_dir: Path) -> None:
        self.port = free_port()
        env = {
            **_lab_env(lab, temporal),
            "IDRAC_ORCH_DATA_DIR": str(data_dir),
            "IDRAC_ORCH_API_HOST": "127.0.0.1",
            "IDRAC_ORCH_API_PORT": str(self.port),
            "IDRAC_ORCH_BREAKGLASS_USERNAME": API_USER,
            "IDRAC_ORCH_BREAKGLASS_PASSWORD_HASH": hash_password(API_PASSWORD),
            "IDRAC_ORCH_LOGIN_TOKEN_TTL_S": "86400",  # a benchmark outlives the default
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__("api", env, data_dir / "api.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_and_login(self) -> str:
        """Start, wait until it answers, and return a bearer token."""
        self.start()
        deadline = time.monotonic() + API_READY_TIMEOUT_S
        while True:
            try:
                response = httpx.post(
                    f"{self.url}/auth/login",
                    json={"username": API_USER, "password": API_PASSWORD},
                    timeout=10,
                )
                return str(response.raise_for_status().json()["access_token"])
            except httpx.TransportError:
                if not self.alive or time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not start; see {self.log}") from None
                time.sleep(0.3)


class CrashableTemporal(TemporalDevServer):
    """The persisted dev server, which a test may also kill -9 (not only stop)."""

    def crash(self) -> None:
        process = self._process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        self._process = None
