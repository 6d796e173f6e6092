"""Build and run the vCenter simulator.

The Go binary is cached under a directory named by the hash of main.go, so it is
rebuilt only when its source changes. The process prints ``CONTROL host:port`` (its
loopback control endpoint) and then ``READY host:port`` once its inventory is built;
:class:`VcsimProcess` waits for both and wraps the control endpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from simulators.fleet import Fleet
from simulators.vcsim.topology import to_topology

SOURCE = Path(__file__).with_name("main.go")
GOPATH = "/usr/share/gocode"
GOVMOMI_SIMULATOR = Path(GOPATH, "src/github.com/vmware/govmomi/simulator")
INSTALL_HINT = "apt-get install golang-go golang-github-vmware-govmomi-dev"
READY_TIMEOUT_S = 60.0


class VcsimError(RuntimeError):
    """The simulator could not be built or did not start."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "idrac-orch" / "vcsim"


def binary_path() -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    return cache_dir() / digest / "vcsim"


def ensure_built() -> Path:
    """Return the cached binary for the current main.go, building it if needed."""
    target = binary_path()
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None or not GOVMOMI_SIMULATOR.is_dir():
        raise VcsimError(f"cannot build vcsim: Go or govmomi missing; run `{INSTALL_HINT}`")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp, "vcsim")
        env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": ""}
        env.setdefault("GOCACHE", str(cache_dir() / "gocache"))
        result = subprocess.run(
            [go, "build", "-o", str(built), str(SOURCE)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise VcsimError(f"go build failed:\n{result.stderr.strip()}")
        built.replace(target)  # atomic: a concurrent builder never sees half a binary
    return target


@dataclass
class VcsimProcess:
    """A running simulator serving ``fleet`` on https://``host``:``port``/sdk."""

    fleet: Fleet
    host: str = "127.0.0.1"
    port: int = 8989
    tls_cert: Path | None = None
    tls_key: Path | None = None
    control_port: int = 0
    ready_timeout_s: float = READY_TIMEOUT_S
    _process: subprocess.Popen[str] | None = field(default=None, init=False, repr=False)
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)
    _output: list[str] = field(default_factory=list, init=False, repr=False)
    control_address: str | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/sdk"

    @property
    def control_url(self) -> str:
        """Base URL of the control endpoint (``POST /hosts/{service_tag}/connection``...)."""
        if self.control_address is None:
            raise VcsimError("vcsim is not running")
        return f"http://{self.control_address}"

    def set_connection(self, service_tag: str, state: str) -> None:
        """What the iDRAC simulator does on reboot: notResponding, then connected."""
        self._control("POST", f"/hosts/{service_tag}/connection", {"state": state})

    def set_host_faults(
        self, service_tag: str, *, fail_task: str | None = None, stuck_entering: bool = False
    ) -> None:
        """Make a maintenance task fail, or entering maintenance never finish."""
        body = {"fail_task": fail_task or "", "stuck_entering_maintenance": stuck_entering}
        self._control("POST", f"/hosts/{service_tag}/faults", body)

    def set_vm_faults(self, vm_name: str, *, refuse_migration: bool) -> None:
        self._control("POST", f"/vms/{vm_name}/faults", {"refuse_migration": refuse_migration})

    def move_host(self, service_tag: str, cluster: str) -> None:
        """Move the host into another cluster, as an administrator would in vCenter."""
        self._control("POST", f"/hosts/{service_tag}/move", {"cluster": cluster})

    def remove_host(self, service_tag: str) -> None:
        """Remove the host from vCenter's inventory."""
        self._control("DELETE", f"/hosts/{service_tag}", None)

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults", None)

    def _control(self, method: str, path: str, body: dict[str, object] | None) -> None:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (our own loopback http endpoint)
            self.control_url + path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310
                pass
        except urllib.error.HTTPError as exc:
            raise VcsimError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def start(self) -> VcsimProcess:
        binary = ensure_built()
        self._workdir = tempfile.TemporaryDirectory(prefix="vcsim-")
        topology = Path(self._workdir.name, "topology.json")
        topology.write_text(json.dumps(to_topology(self.fleet)))
        args = [str(binary), "-topology", str(topology), "-listen", f"{self.host}:{self.port}"]
        args += ["-control", f"127.0.0.1:{self.control_port}"]
        if self.tls_cert and self.tls_key:
            args += ["-tls-cert", str(self.tls_cert), "-tls-key", str(self.tls_key)]
        self._process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        ready = threading.Event()
        stdout = self._process.stdout

        def pump() -> None:
            for line in stdout:
                self._output.append(line.rstrip())
                if line.startswith("CONTROL "):
                    self.control_address = line.split()[1]
                if line.startswith("READY "):
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(self.ready_timeout_s) or self._process.poll() is not None:
            self.stop()
            tail = "\n".join(self._output[-20:])
            raise VcsimError(f"vcsim did not become ready on {self.host}:{self.port}:\n{tail}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> VcsimProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        raise SystemExit("usage: python -m simulators.vcsim.harness build")
    print(ensure_built())
