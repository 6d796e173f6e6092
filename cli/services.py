"""`idrac-orch worker`, `api` and `selftest`: one part of the service each (production shape)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import timedelta
from typing import Annotated

import typer
import uvicorn
from temporalio.client import Client

from activities.resources import Resources
from api.client_address import SERVER_OPTIONS
from common.logging import configure_logging, get_logger
from common.settings import Settings, get_settings
from common.temporal import connect
from domain.temporal_names import TaskQueue
from store.crypto import SecretKeyMissingError
from store.migrate import DatabaseUnavailableError, upgrade
from workers.main import run_workers
from workers.startup_checks import (
    StartupCheckError,
    check_package_address,
    inventory_idrac_addresses,
)
from workflows.selftest import SelfTestWorkflow

log = get_logger(__name__)
CONNECT_ATTEMPTS = 30


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


async def connect_with_retry(settings: Settings, attempts: int = CONNECT_ATTEMPTS) -> Client:
    """Temporal may still be starting (compose, dev): retry for a while, then fail clearly."""
    for attempt in range(1, attempts + 1):
        try:
            return await connect(settings)
        except RuntimeError as exc:
            if attempt == attempts:
                raise typer.BadParameter(
                    f"cannot reach Temporal at {settings.temporal_address}: {exc}",
                    param_hint="IDRAC_ORCH_TEMPORAL_ADDRESS",
                ) from None
            log.warning("temporal not reachable yet", address=settings.temporal_address)
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


def worker() -> None:
    """Run the Temporal workers for every task queue until SIGINT/SIGTERM."""
    settings = _settings()

    async def main() -> None:
        try:
            resources = Resources.from_settings(settings)
        except SecretKeyMissingError as exc:
            raise typer.BadParameter(str(exc), param_hint="IDRAC_ORCH_SECRET_KEY") from None
        addresses = await asyncio.to_thread(inventory_idrac_addresses, resources.engine)
        try:
            check_package_address(settings.effective_package_repository_url, addresses)
        except StartupCheckError as exc:
            raise typer.BadParameter(str(exc)) from None
        client = await connect_with_retry(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_workers(client, resources, stop)

    asyncio.run(main())


WORKER_START_TIMEOUT_S = 60


def api() -> None:
    """Serve the HTTP API (migrations are applied at start)."""
    settings = _settings()
    if settings.api_workers > 1:
        # Once, here: worker processes migrating a fresh database at once would collide.
        try:
            upgrade(settings.effective_database_url)
        except DatabaseUnavailableError as exc:
            raise typer.BadParameter(str(exc), param_hint="IDRAC_ORCH_DATABASE_URL") from None
    uvicorn.run(
        "api.main:create_app_from_environment",
        factory=True,
        workers=settings.api_workers,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=True,
        # A worker process imports the whole app before it answers; on a loaded host that
        # took longer than uvicorn's 5 s default, which then killed and respawned it forever.
        timeout_worker_healthcheck=WORKER_START_TIMEOUT_S,
        **SERVER_OPTIONS,
    )


def selftest(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the workers.")] = 60.0,
) -> None:
    """Check that workers poll every task queue: runs SelfTestWorkflow once."""
    settings = _settings()

    async def main() -> None:
        client = await connect_with_retry(settings, attempts=1)
        result = await client.execute_workflow(
            SelfTestWorkflow.run,
            id=f"selftest-{uuid.uuid4()}",
            task_queue=TaskQueue.CAMPAIGNS,
            execution_timeout=timedelta(seconds=timeout),
        )
        for probe in result.probes:
            typer.echo(f"{probe.task_queue:<10} served by {probe.worker}")

    asyncio.run(main())
