"""Benchmark: identity + firmware inventory of many simulated iDRACs, bounded concurrency.

The simulator runs in a child process (its own core), each iDRAC on its own loopback
address, with added latency per request. The sweep uses the real client: one session
per host (login, logout), $expand for collections. The last stdout line is JSON:
wall_s, requests_per_host (identity + inventory requests), all_requests_per_host (plus
service root, login and logout), server_requests_per_host (as counted by the simulator),
errors, peak_rss_mb (sweep process), sim_peak_rss_mb, and the CPU seconds each side used
(the machine has 2 cores: wall time above the larger CPU figure is waiting).

    .venv/bin/python benchmarks/inventory_sweep.py --hosts 1000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from common.logging import configure_logging
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import RedfishError
from integrations.redfish.models import ClientOptions, Credentials
from integrations.redfish.transport import ssl_verify
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


async def sweep(urls: list[str], ca: Path, concurrency: int) -> tuple[int, int, int]:
    """Identity + inventory of every URL; returns (errors, data requests, all requests)."""
    options = ClientOptions(ca_bundle=ca, connect_timeout_s=10, read_timeout_s=60, retries=2)
    credentials = Credentials(username="root", password="calvin")  # noqa: S106 (simulator default)
    timeout = httpx.Timeout(options.read_timeout_s, connect=options.connect_timeout_s)
    tls = ssl_verify(options)  # one SSLContext for all hosts: the CA is loaded once
    errors = data = sent = 0
    queue = list(reversed(urls))

    async def survey(url: str, http: httpx.AsyncClient) -> None:
        nonlocal errors, data, sent
        client = RedfishClient(url, credentials, options, http=http)
        try:
            await client.transport.login()
            before = client.transport.requests_sent
            await client.identity()
            await client.firmware_inventory()
            data += client.transport.requests_sent - before
        except RedfishError as exc:
            errors += 1
            print(f"error: {exc}", file=sys.stderr)
        finally:
            await client.aclose()
            sent += client.transport.requests_sent

    async def worker() -> None:
        # One small connection pool per worker: httpcore scans every pooled connection on
        # each request, so a single pool holding 1,000 hosts' connections turns quadratic.
        limits = httpx.Limits(max_keepalive_connections=1)
        async with httpx.AsyncClient(
            verify=tls, timeout=timeout, limits=limits, trust_env=False
        ) as http:
            while queue:
                await survey(queue.pop(), http)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors, data, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=100)
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
            urls = [url for _, url in endpoints]
            started, cpu_before = time.perf_counter(), _cpu_s()
            errors, data, sent = asyncio.run(sweep(urls, Path(ca), args.concurrency))
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
        "requests_per_host": round(data / args.hosts, 2),
        "all_requests_per_host": round(sent / args.hosts, 2),
        "server_requests_per_host": round(served / args.hosts, 2),
        "errors": errors,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "sim_peak_rss_mb": round(sim_rss, 1),
        "sweep_cpu_s": round(cpu, 2),
        "sim_cpu_s": round(sim_cpu, 2),  # includes its start-up (certificate, 1,000 listeners)
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
