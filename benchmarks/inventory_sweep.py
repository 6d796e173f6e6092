"""Benchmark: the inventory and health sweep over many simulated iDRACs, bounded concurrency.

The simulator runs in a child process (its own core), each iDRAC on its own loopback
address, with added latency per request. The sweep is the one the worker's schedule runs
(integrations/discovery/sweep.py, without Temporal and the store) with the worker's
defaults (concurrency, per-host timeout): basic auth, per host the service root, the
system, the firmware inventory ($expand: one request), Thermal and Power, each host
checked against the service tag expected at its address. The last stdout line is JSON:
wall_s, server_requests_per_host (as counted by the simulator: 5, of which the firmware
takes 2), read, errors (distinct reasons), peak_rss_mb (sweep process), sim_peak_rss_mb,
and the CPU seconds each side used (the machine has 2 cores: wall time above the larger
CPU figure is waiting).

    .venv/bin/python benchmarks/inventory_sweep.py --hosts 10000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.logging import configure_logging
from common.settings import Settings
from domain.discovery import DEFAULT_CONNECT_TIMEOUT_S
from domain.inventory import HostReading
from integrations.discovery.scanner import ScanOptions
from integrations.discovery.sweep import SweepTarget, sweep
from integrations.redfish.models import ClientOptions, Credentials
from simulators.idrac.simulator import IdracSimulator, generated_hosts
from tests.services.ports import free_port


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(hosts: int, base: str, port: int, latency_ms: float, state_dir: str, pipe: Connection):
    """Child process: run the simulator until the parent says stop."""

    async def main() -> None:
        sim = IdracSimulator(
            generated_hosts(hosts),
            base_address=base,
            port=port,
            latency_ms=latency_ms,
            state_dir=Path(state_dir),
        )
        await sim.start()
        pipe.send((str(sim.ca_path), sim.endpoints()))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        served = sum(h.requests for h in sim.hosts.values())
        await sim.stop()
        pipe.send((served, _peak_rss_mb(), _cpu_s()))

    asyncio.run(main())


def _default(name: str) -> Any:
    """A worker setting's default: the benchmark runs the product as shipped."""
    return Settings.model_fields[name].default


async def run_sweep(
    endpoints: list[tuple[str, str]], port: int, ca: Path, concurrency: int
) -> list[HostReading]:
    """The inventory sweep the schedule runs, minus Temporal and the store."""
    credentials = Credentials(username="root", password="calvin")  # noqa: S106 (simulator default)
    options = ScanOptions(
        port=port,
        concurrency=concurrency,
        connect_timeout_s=DEFAULT_CONNECT_TIMEOUT_S,
        address_timeout_s=_default("inventory_host_timeout_s"),
        trust=ClientOptions(ca_bundle=ca),
    )
    targets = [
        SweepTarget(index, urlsplit(url).hostname or "", credentials, tag)
        for index, (tag, url) in enumerate(endpoints)
    ]
    return await sweep(targets, options, lambda: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=_default("inventory_sweep_concurrency"))
    parser.add_argument("--base-address", default="127.20.0.1")
    args = parser.parse_args()
    configure_logging("WARNING", "console")

    port = free_port(args.base_address)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    with tempfile.TemporaryDirectory(prefix="sweep-") as state_dir:
        server = multiprocessing.get_context("spawn").Process(
            target=_serve,
            args=(args.hosts, args.base_address, port, args.latency_ms, state_dir, child),
        )
        server.start()
        try:
            ca, endpoints = parent.recv()
            started, cpu_before = time.perf_counter(), _cpu_s()
            readings = asyncio.run(run_sweep(endpoints, port, Path(ca), args.concurrency))
            wall, cpu = time.perf_counter() - started, _cpu_s() - cpu_before
            parent.send("stop")
            served, sim_rss, sim_cpu = parent.recv()
        finally:
            server.join(timeout=30)
            if server.is_alive():
                server.terminate()
    result = {
        "wall_s": round(wall, 2),
        "hosts": args.hosts,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "server_requests_per_host": round(served / args.hosts, 2),
        "read": sum(1 for r in readings if r.reachable),
        "errors": sorted({r.error or "" for r in readings if not r.reachable}),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "sim_peak_rss_mb": round(sim_rss, 1),
        "sweep_cpu_s": round(cpu, 2),
        "sim_cpu_s": round(sim_cpu, 2),  # includes its start-up (certificate, 1,000 listeners)
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
