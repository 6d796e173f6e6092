"""The console's browser tests: the real API (uvicorn on loopback) over a simulated lab
(vcsim, the iDRAC fleet, PostgreSQL), a real worker in a Temporal namespace of its own,
slapd for directory logins, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.security import hash_password
from common.settings import Settings
from common.temporal import data_converter
from tests.integration.api.conftest import (
    BASE,
    GROUPS,
    PEOPLE,
    ROLE_GROUPS,
    SEED,
    _ensure_namespace,
    serve,
)
from tests.integration.campaign.lab import SECRET_KEY, Lab, running_lab
from tests.services.postgres import fresh_database
from tests.services.slapd import Slapd, running_slapd
from workers.main import running_workers

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
NAMESPACE = "console-e2e"
TEMPORAL_UI = "http://127.0.0.1:8233"
VIEWPORT = {"width": 1280, "height": 800}
# Slow enough to watch a host's steps go by, fast enough for CI.
TIME_SCALE = 0.02
BREAKGLASS_PASSWORD = "bg-Console-Pass-4411"
# Set to refresh the README's screenshots in docs/console/ from a run of these tests.
SCREENSHOTS_ENV = "IDRAC_ORCH_CONSOLE_SCREENSHOTS"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with (
        fresh_database() as url,
        running_lab(url, tmp_path_factory.mktemp("lab"), time_scale=TIME_SCALE) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def directory() -> Iterator[Slapd]:
    with running_slapd(SEED, BASE) as slapd:
        yield slapd


@pytest.fixture(scope="module")
def namespace() -> str:
    """The module's Temporal namespace: each module's lab has a database of its own, so
    its campaign ids (and workflow ids) start again; a module starting campaigns after
    another overrides this with its own."""
    return NAMESPACE


@pytest.fixture(scope="module")
def settings(
    lab: Lab,
    directory: Slapd,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    namespace: str,
) -> Settings:
    return Settings(
        database_url=lab.settings.database_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_namespace=namespace,
        temporal_ui_url=TEMPORAL_UI + "/",
        secret_key=SECRET_KEY,
        ldap_url=directory.url,
        ldap_bind_dn=f"cn=svc-orch,ou=services,{BASE}",
        ldap_bind_password="svc-Bind-Pass-77421",
        ldap_user_base_dn=PEOPLE,
        ldap_group_base_dn=GROUPS,
        ldap_role_groups=ROLE_GROUPS,
        breakglass_username="breakglass",
        breakglass_password_hash=hash_password(BREAKGLASS_PASSWORD),
        package_dir=tmp_path_factory.mktemp("packages"),
    )


@pytest_asyncio.fixture(scope="module")
async def worker(
    temporal_env: WorkflowEnvironment, settings: Settings, lab: Lab
) -> AsyncIterator[None]:
    """The real workflows and activities, reading payloads the way the API writes them."""
    namespace = settings.temporal_namespace
    await _ensure_namespace(temporal_env.client, namespace)
    client = await Client.connect(
        settings.temporal_address, namespace=namespace, data_converter=data_converter(settings)
    )
    async with running_workers(client, lab.resources):
        yield


@dataclass(frozen=True)
class Console:
    url: str
    settings: Settings

    def token(self, username: str, password: str) -> str:
        response = httpx.post(
            f"{self.url}/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def api(self, token: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def console(settings: Settings, worker: None) -> Iterator[Console]:
    with serve(settings) as url:
        yield Console(url, settings)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium (scripts/system-deps.sh installs it): missing is an error."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `bash scripts/system-deps.sh`")
    return CHROMIUM


@pytest_asyncio.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) at 1280x800, the size pages must work at."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    yield await context.new_page()
    await context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where pages are photographed; copied into docs/console/ when asked to."""
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if os.environ.get(SCREENSHOTS_ENV):
        target = ROOT / "docs" / "console"
        target.mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, target / shot.name)
