"""The iDRAC simulator over real HTTPS, a loopback image server and a vCenter recorder.

One simulator per test session (its own thread and event loop) with a pool of hosts;
every test takes fresh hosts from the pool, so tests never see each other's firmware,
jobs or faults. Addresses are in 127.21.x.y on a free port, so parallel runs don't clash.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from activities.resources import Resources
from common.settings import Settings
from domain.runbook import HostRef
from integrations.redfish.client import RedfishClient
from integrations.redfish.models import ClientOptions, Credentials
from simulators.fleet import HostSpec
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator
from store.credentials import set_secret
from store.crypto import SecretBox
from store.db import make_engine
from store.migrate import upgrade
from store.models import CredentialProfile, Server

TIME_SCALE = 0.005  # a 3-minute iDRAC reset takes 0.9 s
DELL_HOSTS = 70
GENERIC_HOSTS = 24
OLDER_LINE_HOSTS = 4  # per iDRAC9 line without LastResetTime (4.x, 5.x)
OLDER_LINES = ("idrac9-4.x", "idrac9-5.x")
PASSWORD = "calvin"
SECRET_PASSWORD = "Zq7-unlikely-passw0rd"
STORE_KEY = "redfish-activities-key"

IMAGES = {
    "BIOS_8MRPC_WN64_2.11.2.EXE": b"MZ fake BIOS DUP\n",
    "iDRAC-with-Lifecycle-Controller_Firmware_XXXXX_WN64_7.10.30.00_A00.EXE": b"MZ fake\n",
    "Diagnostics_Application_R30YT_WN64_4302A01_A00.EXE": b"MZ fake diags\n",
    "CPLD_Firmware_WN64_1.0.7_A00.EXE": b"MZ fake cpld\n",
    "Network_Firmware_6FD9P_WN64_22.00.7_A00.EXE": b"MZ fake nic\n",
    "firmimgFIT.d9": b"idrac-sim: component=idrac version=7.20.10.50\n...",
    "README.txt": b"not an update package\n",
}


class _Quiet:
    def log_message(self, *_: Any) -> None:
        """Keep test output clean."""


class _ImageHandler(_Quiet, SimpleHTTPRequestHandler):
    pass


class _Recorder(_Quiet, BaseHTTPRequestHandler):
    calls: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.calls.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(204)
        self.end_headers()


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("images")
    for name, content in IMAGES.items():
        (directory / name).write_bytes(content)
    return directory


@pytest.fixture(scope="session")
def image_server(image_dir: Path) -> Iterator[str]:
    """A real HTTP file server on loopback: where SimpleUpdate fetches images from."""
    handler = partial(_ImageHandler, directory=str(image_dir))
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), handler))


@dataclass
class VcenterRecorder:
    """A real HTTP server standing in for the vCenter simulator's control endpoint."""

    url: str
    calls: list[tuple[str, dict[str, Any]]]

    def states_of(self, tag: str) -> list[str]:
        path = f"/hosts/{tag}/connection"
        return [body["state"] for p, body in list(self.calls) if p == path]


@pytest.fixture(scope="session")
def vcenter() -> Iterator[VcenterRecorder]:
    calls: list[tuple[str, dict[str, Any]]] = []
    handler = type("Recorder", (_Recorder,), {"calls": calls})
    for url in _serve(ThreadingHTTPServer(("127.0.0.1", 0), handler)):
        yield VcenterRecorder(url, calls)


@pytest.fixture(scope="session")
def simulator(
    tmp_path_factory: pytest.TempPathFactory, vcenter: VcenterRecorder
) -> Iterator[IdracSimulator]:
    hosts = [HostSpec(name=f"t{i}", service_tag=f"TST{i:04d}") for i in range(DELL_HOSTS)]
    hosts += [
        HostSpec(name=f"l{k}{i}", service_tag=f"LIN{k}{i:03d}", personality=line)
        for k, line in enumerate(OLDER_LINES)
        for i in range(OLDER_LINE_HOSTS)
    ]
    hosts.append(HostSpec(name="s", service_tag="SECRET1", idrac_password=SECRET_PASSWORD))
    hosts += [
        HostSpec(name=f"g{i}", service_tag=f"GEN{i:04d}", generic=True, model="Contoso X1")
        for i in range(GENERIC_HOSTS)
    ]
    sim = IdracSimulator(
        hosts,
        base_address=f"127.21.{random.randint(0, 250)}.1",
        port=0,
        time_scale=TIME_SCALE,
        vcenter_control=vcenter.url,
        state_dir=tmp_path_factory.mktemp("idrac-sim"),
    )
    with SimulatorThread(sim) as running:
        yield running


@dataclass
class SimHostHandle:
    """One fresh simulated host, with its control endpoint."""

    tag: str
    url: str
    control_url: str

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.control_url}/hosts/{self.tag}").raise_for_status().json()

    def set_faults(self, **faults: Any) -> None:
        httpx.post(f"{self.control_url}/hosts/{self.tag}/faults", json=faults).raise_for_status()

    def set_quirks(self, **quirks: Any) -> None:
        url = f"{self.control_url}/hosts/{self.tag}/quirks"
        httpx.post(url, json=quirks).raise_for_status()

    def set_license(self, level: str) -> None:
        url = f"{self.control_url}/hosts/{self.tag}/license"
        httpx.post(url, json={"level": level}).raise_for_status()

    def ref(self) -> HostRef:
        """The host as the runbook's activities know it."""
        address = httpx.URL(self.url).host
        return HostRef(
            name=f"{self.tag.lower()}.test",
            service_tag=self.tag,
            idrac_address=address,
            cluster="c",
            datacenter="dc",
        )

    def offline(self, seconds: float) -> None:
        httpx.post(
            f"{self.control_url}/hosts/{self.tag}/offline", json={"seconds": seconds}
        ).raise_for_status()


class _Pool:
    """Free hosts by kind: "generic", or the iDRAC9 line they play."""

    def __init__(self, sim: IdracSimulator) -> None:
        self._sim = sim
        self._free: dict[str, list[str]] = {}
        for tag, host in sim.hosts.items():
            if tag != "SECRET1":
                kind = "generic" if host.generic else host.spec.personality
                self._free.setdefault(kind, []).append(tag)

    def take(self, generic: bool = False, personality: str = "idrac9-7.x") -> SimHostHandle:
        kind = "generic" if generic else personality
        if not self._free.get(kind):
            raise RuntimeError(f"simulated host pool exhausted ({kind}): raise its count")
        tag = self._free[kind].pop(0)
        return SimHostHandle(tag, self._sim.url_of(tag), self._sim.control_url)


@pytest.fixture(scope="session")
def pool(simulator: IdracSimulator) -> _Pool:
    return _Pool(simulator)


@pytest.fixture
def host(pool: _Pool) -> SimHostHandle:
    return pool.take()


@pytest.fixture
def generic_host(pool: _Pool) -> SimHostHandle:
    return pool.take(generic=True)


@dataclass
class SecretHostHandle(SimHostHandle):
    password: str = SECRET_PASSWORD


@pytest.fixture
def secret_host(simulator: IdracSimulator) -> SecretHostHandle:
    """The one host whose iDRAC password is not Dell's default."""
    return SecretHostHandle("SECRET1", simulator.url_of("SECRET1"), simulator.control_url)


@pytest.fixture(scope="session")
def options(simulator: IdracSimulator) -> ClientOptions:
    """Client waits sized for the time scale: generous against the simulated durations."""
    return ClientOptions(
        ca_bundle=simulator.ca_path,
        poll_interval_s=0.02,
        backoff_s=0.02,
        backoff_max_s=0.2,
        connect_timeout_s=2,
        read_timeout_s=10,
        job_timeout_s=20,
        task_404_grace_s=3,
        idrac_offline_timeout_s=10,
        reboot_grace_s=3,
        host_back_timeout_s=20,
        lc_ready_timeout_s=10,
        lc_settle_s=2,
    )


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(username="root", password=PASSWORD)


@pytest.fixture
def make_client(options: ClientOptions, credentials: Credentials):
    def make(handle: SimHostHandle, **overrides: Any) -> RedfishClient:
        creds = overrides.pop("credentials", credentials)
        return RedfishClient(handle.url, creds, options.model_copy(update=overrides))

    return make


@pytest.fixture(scope="session")
def resources(
    simulator: IdracSimulator, options: ClientOptions, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Resources]:
    """The worker's resources over a SQLite store that knows every simulated iDRAC and
    Dell's default login, as activities resolve them in production."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/orch.db"
    upgrade(url)
    engine = make_engine(url)
    box = SecretBox(STORE_KEY)
    with Session(engine) as session:
        login = CredentialProfile(
            name="idrac-default",
            scope="global",
            scope_key="global",
            username="root",
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(login, box, PASSWORD)
        session.add(login)
        session.add_all(
            Server(service_tag=tag, idrac_address=host.address)
            for tag, host in simulator.hosts.items()
        )
        session.commit()
    settings = Settings(database_url=url, secret_key=STORE_KEY, idrac_port=simulator.port)
    yield Resources(settings=settings, engine=engine, secrets=box, redfish_options=options)
    engine.dispose()
