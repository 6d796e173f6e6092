"""Onboarding against real parts: the iDRAC simulator over HTTPS on a loopback /24, a
socket there that accepts and never answers, PostgreSQL, Temporal (a namespace of our
own) with the real worker registry, and the API under uvicorn.

The worker runs on the session event loop, so tests are async and call the API and the
CLI through ``asyncio.to_thread``.
"""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.resources import Resources
from api.security import hash_password
from common.settings import Settings
from common.temporal import connect
from simulators.fleet import HostSpec
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator
from tests.integration.api.conftest import _ensure_namespace, serve
from tests.integration.onboarding.tls_servers import pem, site_ca
from tests.services.postgres import fresh_database
from workers.main import running_workers

NAMESPACE = "onboarding-tests"
BREAKGLASS_PASSWORD = "bg-Onboarding-Pass-61733"
SECRET_KEY = "sk-onboarding-tests-8842"
IDRAC_PASSWORD = "calvin"
DELL_TAGS = ["ONB0001", "ONB0002", "ONB0003", "ONB0004"]
GENERIC_TAG, LOCKED_TAG = "ONBGEN1", "ONBLCK1"


@dataclass(frozen=True)
class Lab:
    network: str  # the /24 every simulated iDRAC of this module lives in
    simulator: IdracSimulator
    silent: str  # accepts connections, never answers
    addresses: dict[str, str]  # service tag -> iDRAC address
    ca_bundle: Path  # the simulator's CA and a site CA (tls_servers.site_ca)
    site_ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
    directory: Path

    def address(self, last_octet: int) -> str:
        return self.network.replace(".0/24", f".{last_octet}")

    def control(self, tag: str, action: str, body: dict[str, object]) -> None:
        url = f"{self.simulator.control_url}/hosts/{tag}/{action}"
        httpx.post(url, json=body, timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    prefix = f"127.22.{random.randint(0, 250)}"
    hosts = [HostSpec(name=f"esx-{t.lower()}.lab.test", service_tag=t) for t in DELL_TAGS]
    hosts.append(
        HostSpec(name="generic", service_tag=GENERIC_TAG, generic=True, model="Contoso X1")
    )
    hosts.append(HostSpec(name="locked", service_tag=LOCKED_TAG, idrac_password="not-calvin"))
    simulator = IdracSimulator(
        hosts,
        base_address=f"{prefix}.1",
        port=0,
        time_scale=0.005,
        state_dir=tmp_path_factory.mktemp("idrac"),
    )
    directory = tmp_path_factory.mktemp("tls")
    with SimulatorThread(simulator) as running, socket.socket() as silent:
        silent.bind((f"{prefix}.200", running.port))
        silent.listen(8)  # the kernel completes handshakes; nobody ever reads
        addresses = {tag: host.address for tag, host in running.hosts.items()}
        ca = site_ca()
        bundle = directory / "trusted.pem"
        bundle.write_bytes((running.ca_path or Path()).read_bytes() + pem(ca[0]))
        yield Lab(f"{prefix}.0/24", running, f"{prefix}.200", addresses, bundle, ca, directory)


@pytest_asyncio.fixture(scope="session")
async def onboarding_namespace(temporal_env: WorkflowEnvironment) -> str:
    """The dev server's address, once this module's namespace exists there."""
    await _ensure_namespace(temporal_env.client, NAMESPACE)
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="module")
def settings(
    lab: Lab, onboarding_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with fresh_database() as url:
        yield Settings(
            database_url=url,
            temporal_address=onboarding_namespace,
            temporal_namespace=NAMESPACE,
            secret_key=SECRET_KEY,
            breakglass_username="breakglass",
            breakglass_password_hash=hash_password(BREAKGLASS_PASSWORD),
            package_dir=tmp_path_factory.mktemp("packages"),
            idrac_port=lab.simulator.port,
            idrac_ca_bundle=lab.ca_bundle,
        )


@dataclass(frozen=True)
class Api:
    url: str
    token: str

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[Api]:
    """The API with one global iDRAC login (root / calvin), entered as an operator would."""
    with serve(settings) as url:
        login = httpx.post(
            f"{url}/auth/login",
            json={"username": "breakglass", "password": BREAKGLASS_PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        api = Api(url, login.json()["access_token"])
        with api.client() as client:
            profile = {"name": "idrac-default", "scope": "global", "username": "root"}
            created = client.post(
                "/credential-profiles", json={**profile, "password": IDRAC_PASSWORD}
            )
            assert created.status_code == 201, created.text
        yield api


@pytest_asyncio.fixture(scope="module")
async def onboarding_temporal(settings: Settings) -> Client:
    """A client as the API and the workers build it: the payload codec included."""
    return await connect(settings)


@pytest_asyncio.fixture(scope="module")
async def worker(
    api: Api, settings: Settings, onboarding_temporal: Client
) -> AsyncIterator[Resources]:
    """The production worker registry: runs while a test awaits."""
    resources = Resources.from_settings(settings)
    async with running_workers(onboarding_temporal, resources):
        yield resources
    resources.engine.dispose()
