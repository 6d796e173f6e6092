"""The campaign CLI against the real API (uvicorn on loopback), PostgreSQL and Temporal.

The API runs in a Temporal namespace of its own, with the documented stand-in for
``CampaignWorkflow`` (tests/integration/api/contract_workflow.py) as the worker, so start,
pause, resume, abort and the live status query make real round trips without the
simulators. The inventory is examples/fleet-small.yaml entered through the API, which is
what examples/campaign-bios.yaml refers to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.security import hash_password
from common.settings import Settings
from common.temporal import data_converter
from domain.temporal_names import TaskQueue
from simulators.fleet import Fleet
from tests.integration.api.conftest import _ensure_namespace, serve
from tests.integration.api.contract_workflow import CampaignContractWorkflow
from tests.services.postgres import fresh_database

NAMESPACE = "cli-campaign-tests"
BREAKGLASS_PASSWORD = "bg-Cli-Campaign-Pass-40917"
CLI_SECRET_KEY = "sk-cli-campaign-tests-5521"
OLD_BIOS, NEW_BIOS = "2.18.1", "2.19.1"
COMPLIANT = "AMS0002"  # already runs the target BIOS: the plan skips it


@dataclass(frozen=True)
class CliApi:
    url: str
    tokens: dict[str, str]  # role -> API token
    servers: dict[str, int]  # service tag -> server id
    settings: Settings

    def client(self, role: str = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest_asyncio.fixture(scope="session")
async def cli_temporal(temporal_env: WorkflowEnvironment) -> Client:
    await _ensure_namespace(temporal_env.client, NAMESPACE)
    return await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=NAMESPACE,
        data_converter=data_converter(Settings(secret_key=CLI_SECRET_KEY)),
    )


@pytest_asyncio.fixture(scope="session")
async def campaign_worker(cli_temporal: Client) -> AsyncIterator[Worker]:
    """Runs only while a test awaits: tests call the CLI through asyncio.to_thread."""
    async with Worker(
        cli_temporal,
        task_queue=TaskQueue.CAMPAIGNS,
        workflows=[CampaignContractWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ) as worker:
        yield worker


@pytest.fixture(scope="session")
def cli_database() -> Iterator[str]:
    """A database of our own: the example file names package 1 and fleet-small's clusters."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def cli_settings(
    cli_database: str, cli_temporal: Client, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=cli_database,
        temporal_address=cli_temporal.service_client.config.target_host,
        temporal_namespace=NAMESPACE,
        secret_key=CLI_SECRET_KEY,
        breakglass_username="breakglass",
        breakglass_password_hash=hash_password(BREAKGLASS_PASSWORD),
        package_dir=tmp_path_factory.mktemp("packages"),
    )


def _seed(client: httpx.Client, fleet: Fleet) -> dict[str, int]:
    """The fleet's datacenters, clusters and servers, and package 1: BIOS 2.19.1."""

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    package = post(
        "/packages",
        {"name": "BIOS", "component_id": "159", "version": NEW_BIOS, "sha256": "ab" * 32},
    )
    assert package["id"] == 1, "examples/campaign-bios.yaml names package 1"
    vcenter = post("/vcenters", {"name": "vc-lab", "address": "vc.lab.test"})
    servers = {}
    for datacenter in fleet.datacenters:
        dc = post("/datacenters", {"name": datacenter.name, "timezone": datacenter.timezone})
        for cluster in datacenter.clusters:
            row = post("/clusters", {"name": cluster.name, "vcenter_id": vcenter["id"]})
            for host in cluster.hosts:
                bios = NEW_BIOS if host.service_tag == COMPLIANT else OLD_BIOS
                server = post(
                    "/servers",
                    {
                        "service_tag": host.service_tag,
                        "idrac_address": host.idrac_address,
                        "model": host.model,
                        "esxi_host": host.name,
                        "datacenter_id": dc["id"],
                        "cluster_id": row["id"],
                        "firmware_inventory": [
                            {"component_id": "159", "name": "BIOS", "version": bios},
                            {"component_id": "25227", "name": "iDRAC", "version": "7.10.70.00"},
                        ],
                    },
                )
                servers[host.service_tag] = int(server["id"])  # type: ignore[call-overload]
    return servers


@pytest.fixture(scope="session")
def cli_api(cli_settings: Settings, example_fleet: Fleet) -> Iterator[CliApi]:
    with serve(cli_settings) as url:
        login = httpx.post(
            f"{url}/auth/login",
            json={"username": "breakglass", "password": BREAKGLASS_PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        admin = login.json()["access_token"]
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30
        ) as client:
            servers = _seed(client, example_fleet)
            tokens = {"admin": admin}
            for role in ("operator", "viewer"):
                created = client.post("/auth/tokens", json={"name": f"cli-{role}", "role": role})
                assert created.status_code == 201, created.text
                tokens[role] = created.json()["token"]
        yield CliApi(url, tokens, servers, cli_settings)
