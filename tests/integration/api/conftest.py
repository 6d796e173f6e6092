"""The API served by a real uvicorn on loopback, over real PostgreSQL, slapd and Temporal.

Temporal: the session's dev server, but in namespaces of our own, so that the contract
worker these tests run on task queue ``campaigns`` never meets another suite's workflows.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import pytest_asyncio
import uvicorn
from google.protobuf.duration_pb2 import Duration
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.client_address import SERVER_OPTIONS
from api.main import create_app
from api.security import hash_password
from common.logging import configure_logging
from common.settings import Settings
from common.temporal import data_converter
from domain.temporal_names import SEARCH_ATTRIBUTES, TaskQueue
from tests.integration.api.contract_workflow import CampaignContractWorkflow
from tests.services.ports import free_port
from tests.services.postgres import ADMIN_DSN
from tests.services.slapd import Slapd, running_slapd

BASE = "dc=example,dc=test"
PEOPLE, GROUPS = f"ou=people,{BASE}", f"ou=groups,{BASE}"
NAMESPACE, IDLE_NAMESPACE = "api-tests", "api-tests-idle"

# Every secret the suite uses: the leak test searches for each of them everywhere.
SECRET_KEY = "sk-Orchestrator-Test-Key-9f8e7d"
SERVICE_PASSWORD = "svc-Bind-Pass-77421"
BREAKGLASS_PASSWORD = "bg-Emergency-Pass-55310"
PASSWORDS = {
    "alice": "alice-Pass-31337",  # fw-operators
    "bob": "bob-Pass-24680",  # fw-viewers
    "carol": "carol-Pass-13579",  # fw-leads, a member of fw-admins (nested)
    "dave": "dave-Pass-11223",  # staff only: no mapped group
    "erin": "erin-Pass-44556",  # fw-viewers and fw-approvers
    "frank": "frank-Pass-66778",  # fw-operators and fw-approvers
    "grace": "grace-Pass-90817",  # fw-leads (admin, nested) and fw-approvers
}


def _user(uid: str) -> str:
    return f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid.title()}
sn: {uid.title()}
userPassword: {PASSWORDS[uid]}
"""


def _group(cn: str, *members: str) -> str:
    lines = "\n".join(f"member: {m}" for m in members)
    return f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}\n"


SEED = "\n".join(
    [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: cn=svc-orch,ou=services,{BASE}\nobjectClass: applicationProcess\n"
        f"objectClass: simpleSecurityObject\ncn: svc-orch\nuserPassword: {SERVICE_PASSWORD}\n",
        *(_user(uid) for uid in PASSWORDS),
        _group("fw-operators", f"uid=alice,{PEOPLE}", f"uid=frank,{PEOPLE}"),
        _group("fw-viewers", f"uid=bob,{PEOPLE}", f"uid=alice,{PEOPLE}", f"uid=erin,{PEOPLE}"),
        _group("fw-approvers", f"uid=erin,{PEOPLE}", f"uid=frank,{PEOPLE}", f"uid=grace,{PEOPLE}"),
        _group("fw-leads", f"uid=carol,{PEOPLE}", f"uid=grace,{PEOPLE}"),
        _group("fw-admins", f"cn=fw-leads,{GROUPS}"),
        _group("staff", f"uid=dave,{PEOPLE}", f"uid=carol,{PEOPLE}"),
    ]
)
ROLE_GROUPS = {
    f"cn=fw-viewers,{GROUPS}": "viewer",
    f"cn=fw-operators,{GROUPS}": "operator",
    f"cn=fw-admins,{GROUPS}": "admin",
}


APPROVER_GROUP = f"cn=fw-approvers,{GROUPS}"


class LogTee(io.TextIOBase):
    """Everything the service logs during the session, for the secret-leak search."""

    def __init__(self) -> None:
        self.chunks: list[str] = []

    def write(self, text: str) -> int:
        self.chunks.append(text)
        return len(text)

    def text(self) -> str:
        return "".join(self.chunks)


_TEE = LogTee()


def _LOG_TAIL() -> str:
    return _TEE.text()[-3000:] or "(nothing logged)"


@pytest.fixture(scope="session")
def captured_logs() -> LogTee:
    tee = _TEE
    configure_logging("DEBUG", "json", stream=tee)
    return tee


@pytest.fixture(scope="session")
def directory() -> Iterator[Slapd]:
    with running_slapd(SEED, BASE) as slapd:
        yield slapd


async def _ensure_namespace(client: Client, name: str) -> None:
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=name, workflow_execution_retention_period=Duration(seconds=86400)
            )
        )
    except RPCError as exc:
        if "already" not in exc.message.lower():
            raise
    deadline = time.monotonic() + 30
    while True:
        try:
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=name)
            )
            break
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=name,
            search_attributes={
                key.name: IndexedValueType.Value(
                    f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}"
                )
                for key in SEARCH_ATTRIBUTES
            },
        )
    )


@pytest_asyncio.fixture(scope="session")
async def temporal_namespaces(temporal_env: WorkflowEnvironment) -> dict[str, Client]:
    clients = {}
    for name in (NAMESPACE, IDLE_NAMESPACE):
        await _ensure_namespace(temporal_env.client, name)
        clients[name] = await Client.connect(
            temporal_env.client.service_client.config.target_host,
            namespace=name,
            data_converter=data_converter(Settings(secret_key=SECRET_KEY)),
        )
    return clients


@pytest.fixture(scope="session")
def fast_postgres_url(postgres_url: str) -> str:
    """The session database without fsync per commit: the audit log commits on every
    mutating request, and durability is not under test here."""
    url = make_url(postgres_url)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{url.database}" SET synchronous_commit TO off')
    return postgres_url


@pytest.fixture(scope="session")
def settings(
    fast_postgres_url: str,
    directory: Slapd,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return Settings(
        database_url=fast_postgres_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_namespace=NAMESPACE,
        secret_key=SECRET_KEY,
        ldap_url=directory.url,
        ldap_bind_dn=f"cn=svc-orch,ou=services,{BASE}",
        ldap_bind_password=SERVICE_PASSWORD,
        ldap_user_base_dn=PEOPLE,
        ldap_group_base_dn=GROUPS,
        ldap_role_groups=ROLE_GROUPS,
        ldap_approver_groups=[APPROVER_GROUP],
        breakglass_username="breakglass",
        breakglass_password_hash=hash_password(BREAKGLASS_PASSWORD),
        package_dir=tmp_path_factory.mktemp("packages"),
        login_max_failures=5,
        login_lockout_s=600,
    )


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run the real app under uvicorn in a thread on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=5,
            **SERVER_OPTIONS,
        )
    )
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start: {_LOG_TAIL()}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass(frozen=True)
class Api:
    url: str
    settings: Settings

    def client(self, token: str | None = None, source: str = "127.0.0.1") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.url, headers=headers, transport=transport, timeout=30)

    def async_client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    def login(self, username: str, password: str) -> str:
        with self.client() as client:
            response = client.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


@pytest.fixture(scope="session")
def api(
    settings: Settings, captured_logs: LogTee, temporal_namespaces: dict[str, Client]
) -> Iterator[Api]:
    with serve(settings) as url:
        yield Api(url, settings)


@pytest.fixture(scope="session")
def idle_api(settings: Settings, temporal_namespaces: dict[str, Client]) -> Iterator[Api]:
    """The same service in a namespace where no campaign worker runs."""
    idle = settings.model_copy(update={"temporal_namespace": IDLE_NAMESPACE})
    with serve(idle) as url:
        yield Api(url, idle)


@pytest.fixture(scope="session")
def tokens(api: Api) -> dict[str, str]:
    """A login token per role, each obtained through the directory (admin: nested group)."""
    return {
        "viewer": api.login("bob", PASSWORDS["bob"]),
        "operator": api.login("alice", PASSWORDS["alice"]),
        "admin": api.login("carol", PASSWORDS["carol"]),
    }


@pytest.fixture(scope="session")
def admin(api: Api, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with api.client(tokens["admin"]) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def contract_worker(temporal_namespaces: dict[str, Client]) -> AsyncIterator[Worker]:
    """Stands in for the real CampaignWorkflow: the documented names, nothing else."""
    async with Worker(
        temporal_namespaces[NAMESPACE],
        task_queue=TaskQueue.CAMPAIGNS,
        workflows=[CampaignContractWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ) as worker:
        yield worker


@pytest.fixture
def package_dir(settings: Settings) -> Path:
    return settings.effective_package_dir
