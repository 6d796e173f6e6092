"""Each campaign test module gets its own lab: simulators, vcsim and a fresh database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.integration.campaign.lab import Lab, running_lab
from tests.replay.histories import closed_executions, record_new
from tests.services.postgres import fresh_database


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with fresh_database() as url, running_lab(url, tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest_asyncio.fixture(autouse=True)
async def record_histories(
    request: pytest.FixtureRequest, temporal_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    """With IDRAC_ORCH_RECORD_HISTORIES set, keep each scenario's histories for replay tests
    (set to a release name, e.g. a commit, the folder says which release recorded them)."""
    release = os.environ.get("IDRAC_ORCH_RECORD_HISTORIES")
    if not release:
        yield
        return
    before = await closed_executions(temporal_env.client)
    yield
    scenario = request.node.name.removeprefix("test_")
    folder = scenario if release == "1" else f"{scenario}@{release}"
    await record_new(temporal_env.client, folder, before)
