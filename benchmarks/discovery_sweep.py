"""Benchmark: one discovery of a loopback /18 (16,382 host addresses) holding 2,000 iDRACs.

    .venv/bin/python -m benchmarks.discovery_sweep [--hosts 2000] [--prefix 127.30.0.0/18]

The product path, at the request's defaults (concurrency, timeouts): the simulator in a
child process (its own core), a Temporal dev server, a fresh PostgreSQL database with one
global iDRAC login, the worker registry in this process, and ``DiscoveryWorkflow``
started as the API starts it. The clock runs from the start to the workflow's result
(every chunk scanned, findings stored, diff computed, every iDRAC enrolled). The last
stdout line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, select

from activities.resources import Resources
from benchmarks.inventory_sweep import _cpu_s, _peak_rss_mb, _serve
from common.logging import configure_logging
from common.settings import Settings
from domain.discovery import (
    WORKFLOW_NAME,
    DiscoveryRequest,
    DiscoveryStart,
    DiscoverySummary,
    discovery_workflow_id,
)
from domain.temporal_names import TaskQueue
from store.credentials import set_secret
from store.crypto import SecretBox
from store.db import make_engine
from store.migrate import upgrade
from store.models import CredentialProfile
from store.onboarding import DiscoveredIdrac, DiscoveryRun
from tests.services.ports import free_port
from tests.services.postgres import fresh_database
from tests.services.temporal import TemporalDevServer
from workers.main import running_workers

SECRET_KEY = "bench-discovery-key"  # noqa: S105 (a throw-away key for a throw-away database)


def _seed(url: str, request: DiscoveryRequest) -> int:
    """Schema, one global iDRAC login and the run's row; returns the run id."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        profile = CredentialProfile(
            name="idrac-default",
            scope="global",
            scope_key="global",
            username="root",
            secret_ciphertext=b"",
            key_id="",
        )
        set_secret(profile, SecretBox(SECRET_KEY), "calvin")
        run = DiscoveryRun(request=request.model_dump(mode="json"), created_by="benchmark")
        session.add_all([profile, run])
        session.commit()
        run_id = run.id or 0
    engine.dispose()
    return run_id


async def _discover(settings: Settings, temporal: TemporalDevServer, start: DiscoveryStart):
    client = await temporal.client()
    resources = Resources.from_settings(settings)
    async with running_workers(client, resources):
        started, cpu_before = time.perf_counter(), _cpu_s()
        summary = await client.execute_workflow(
            WORKFLOW_NAME,
            start,
            id=discovery_workflow_id(start.run_id),
            task_queue=TaskQueue.CAMPAIGNS,
            result_type=DiscoverySummary,
        )
        wall, cpu = time.perf_counter() - started, _cpu_s() - cpu_before
    with Session(resources.engine) as session:
        rows = session.exec(select(DiscoveredIdrac)).all()
        identified = sum(1 for r in rows if r.endpoint.get("credentials") == "ok")
    resources.engine.dispose()
    return summary, wall, cpu, identified


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--prefix", default="127.30.0.0/18")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    base = str(next(ipaddress.ip_network(args.prefix).hosts()))
    port = free_port(base)
    request = DiscoveryRequest(ranges=[args.prefix], port=port)  # every other field: default

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    with tempfile.TemporaryDirectory(prefix="discovery-") as work, fresh_database() as url:
        server = context.Process(target=_serve, args=(args.hosts, base, port, 0.0, work, child))
        server.start()
        temporal = TemporalDevServer(Path(work) / "temporal")
        try:
            ca, _ = parent.recv()
            temporal.start()
            run_id = _seed(url, request)
            settings = Settings(
                database_url=url,
                secret_key=SECRET_KEY,
                temporal_address=temporal.address,
                idrac_ca_bundle=Path(ca),
            )
            start = DiscoveryStart(run_id=run_id, request=request)
            summary, wall, cpu, identified = asyncio.run(_discover(settings, temporal, start))
            parent.send("stop")
            _, sim_rss, sim_cpu = parent.recv()
        finally:
            temporal.stop()
            server.join(timeout=30)
            if server.is_alive():
                server.terminate()
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "range": args.prefix,
                "addresses_scanned": summary.scanned,
                "idracs_simulated": args.hosts,
                "answered": summary.answered,
                "identified_with_credentials": identified,
                "enrolled": summary.enrolled,
                "concurrency": request.concurrency,
                "connect_timeout_s": request.connect_timeout_s,
                "address_timeout_s": request.address_timeout_s,
                "worker_cpu_s": round(cpu, 2),
                "worker_peak_rss_mb": round(_peak_rss_mb(), 1),
                "sim_cpu_s": round(sim_cpu, 2),
                "sim_peak_rss_mb": round(sim_rss, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
