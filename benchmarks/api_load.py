"""API load: 10,000 servers, 200 concurrent clients on loopback, 30 s, list and get.

Starts the real API (`uvicorn api.main:create_app`, one process, access log off) in a
subprocess over a throw-away PostgreSQL database, seeds the inventory, logs in as the
break-glass admin, then runs closed-loop clients that each alternate between
``GET /servers/{id}`` (random id) and ``GET /servers?cluster_id=..&limit=100&offset=..``
(a filtered page of 100). The last stdout line is one JSON object.

    .venv/bin/python -m benchmarks.api_load [--clients 200] [--duration 30] [--servers 10000]
        [--api-workers 1] [--think-ms 0]

The defaults are the issue's mode: 200 closed-loop clients with zero think time. By
Little's law their mean latency is then ``clients / rps`` whatever the server does, so the
JSON also reports that figure (``little_floor_ms``). ``--api-workers N`` runs uvicorn with
N worker processes, as production would; ``--think-ms T`` makes each client pause a random
exponential time of mean T ms between requests (operators and automation do not hammer).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import psycopg
from sqlalchemy import insert

from api.security import hash_password
from store.db import make_engine
from store.migrate import upgrade
from store.models import Cluster, Datacenter, Server, Vcenter

ADMIN_DSN = os.environ.get(
    "IDRAC_ORCH_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CLUSTERS = 100
TARGETS_P99_MS = {"get_server": 100.0, "list_servers": 250.0}
BREAKGLASS_PASSWORD = "bench-" + uuid.uuid4().hex


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"idrac_orch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, servers: int) -> list[int]:
    """10,000 servers in 100 clusters; returns the cluster ids."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    inventory = [
        {"component_id": "159", "name": "BIOS", "version": "2.18.1"},
        {"component_id": "25227", "name": "iDRAC", "version": "7.00.00.171"},
    ]
    with engine.begin() as connection:
        dc = connection.execute(
            insert(Datacenter).values(name="bench", timezone="UTC", created_at=now)
        ).inserted_primary_key[0]
        vc = connection.execute(
            insert(Vcenter).values(
                name="vc", address="vc.bench.test", datacenter_id=dc, created_at=now
            )
        ).inserted_primary_key[0]
        clusters = [
            connection.execute(
                insert(Cluster).values(name=f"c{i:03d}", vcenter_id=vc, created_at=now)
            ).inserted_primary_key[0]
            for i in range(CLUSTERS)
        ]
        connection.execute(
            insert(Server),
            [
                {
                    "service_tag": f"B{i:06d}",
                    "idrac_address": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
                    "model": "PowerEdge R650",
                    "datacenter_id": dc,
                    "cluster_id": clusters[i % CLUSTERS],
                    "esxi_host": f"esx{i:05d}.bench.test",
                    "firmware_inventory": inventory,
                    "health": "OK",
                    "last_seen_at": now,
                    "created_at": now,
                }
                for i in range(servers)
            ],
        )
    engine.dispose()
    return clusters


@contextmanager
def api_process(url: str, port: int, workers: int = 1) -> Iterator[tuple[str, int]]:
    env = {
        **os.environ,
        "IDRAC_ORCH_DATABASE_URL": url,
        "IDRAC_ORCH_SECRET_KEY": uuid.uuid4().hex,
        "IDRAC_ORCH_BREAKGLASS_USERNAME": "bench",
        "IDRAC_ORCH_BREAKGLASS_PASSWORD_HASH": hash_password(BREAKGLASS_PASSWORD),
        "IDRAC_ORCH_LOG_LEVEL": "WARNING",
        "IDRAC_ORCH_LOGIN_TOKEN_TTL_S": "3600",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/metrics", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.2)
        if workers > 1:  # every worker answers /metrics once it is up
            while len(_children(process.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux /proc; 0 for one that is gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0


class Connection:
    """One keep-alive HTTP/1.1 connection per virtual client. Hand-rolled on purpose:
    httpx's pool serialises 200 connections through one lock and became the bottleneck
    of the measurement, not the API."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        reused = self.writer is not None
        try:
            return await self._get(target)
        except (OSError, asyncio.IncompleteReadError):
            if not reused:
                raise
        # The server closed the idle keep-alive connection (uvicorn: after 5 s), as every
        # HTTP client expects: reconnect and send again, once.
        await self.close()
        self.writer = None
        return await self._get(target)

    async def _get(self, target: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def client_loop(
    connection: Connection,
    stop_at: float,
    servers: int,
    clusters: list[int],
    results: dict[str, Samples],
    rng: random.Random,
    think_ms: float = 0.0,
) -> None:
    per_cluster = servers // len(clusters)
    turn = rng.randrange(2)
    if think_ms > 0:  # clients start spread out, not all at once
        await _think(rng, think_ms, stop_at)
    while time.monotonic() < stop_at:
        if turn % 2 == 0:
            name, target = "get_server", f"/servers/{rng.randint(1, servers)}"
        else:
            offset = rng.randrange(0, max(per_cluster - 100, 1))
            cluster = rng.choice(clusters)
            name = "list_servers"
            target = f"/servers?cluster_id={cluster}&limit=100&offset={offset}"
        turn += 1
        started = time.perf_counter()
        try:
            ok = await connection.get(target) == 200
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
            await connection.close()
            connection.writer = None
        elapsed = (time.perf_counter() - started) * 1000
        if ok:
            results[name].latencies_ms.append(elapsed)
        else:
            results[name].errors += 1
        if think_ms > 0:
            await _think(rng, think_ms, stop_at)
    await connection.close()


async def _think(rng: random.Random, think_ms: float, stop_at: float) -> None:
    """A random exponential pause of mean think_ms, cut at the end of the run (so the last
    pauses do not stretch the measured duration)."""
    pause = rng.expovariate(1000.0 / think_ms)
    await asyncio.sleep(min(pause, max(stop_at - time.monotonic(), 0.0)))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(samples: Samples, duration: float) -> dict[str, float | int]:
    values = samples.latencies_ms
    return {
        "rps": round(len(values) / duration, 1),
        "mean_ms": round(statistics.fmean(values), 1) if values else float("nan"),
        "p50_ms": round(statistics.median(values), 1) if values else float("nan"),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "errors": samples.errors,
        "requests": len(values) + samples.errors,
    }


def little_floor_ms(clients: int, rps: float, think_ms: float) -> float:
    """Little's law for a closed loop: clients = rps x (mean latency + think time). At a
    given throughput the mean latency is therefore clients / rps - think time, whatever the
    server does; only more throughput (or fewer busy clients) brings it down."""
    if rps <= 0:
        return float("nan")
    return round(max(clients / rps * 1000 - think_ms, 0.0), 1)


async def run_load(
    base: str,
    token: str,
    clients: int,
    duration: float,
    servers: int,
    clusters: list[int],
    think_ms: float = 0.0,
) -> dict[str, Samples]:
    results = {"get_server": Samples(), "list_servers": Samples()}
    host, port = base.removeprefix("http://").split(":")
    stop_at = time.monotonic() + duration
    await asyncio.gather(
        *(
            client_loop(
                Connection(host, int(port), token),
                stop_at,
                servers,
                clusters,
                results,
                random.Random(i),
                think_ms,
            )
            for i in range(clients)
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=0, help="0: a free loopback port")
    parser.add_argument(
        "--api-workers", type=int, default=1, help="uvicorn worker processes (default 1)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean of each client's random exponential pause between requests (default 0)",
    )
    args = parser.parse_args()
    if args.api_workers < 1 or args.think_ms < 0:
        parser.error("--api-workers must be >= 1 and --think-ms >= 0")
    import socket

    port = args.port
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

    with scratch_database() as url:
        clusters = seed(url, args.servers)
        print(f"seeded {args.servers} servers in {len(clusters)} clusters", file=sys.stderr)
        with api_process(url, port, args.api_workers) as (base, api_pid):
            login = httpx.post(
                f"{base}/auth/login", json={"username": "bench", "password": BREAKGLASS_PASSWORD}
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            api_pids = [api_pid, *_children(api_pid)]
            pg_pids = postgres_pids()
            cpu_before = (cpu_seconds(api_pids), cpu_seconds(pg_pids), own_cpu_seconds())
            load_before = os.getloadavg()[0]
            # The load generator's own full GC passes would show up as server latency.
            gc.collect()
            gc.freeze()
            started = time.monotonic()
            results = asyncio.run(
                run_load(
                    base,
                    token,
                    args.clients,
                    args.duration,
                    args.servers,
                    clusters,
                    args.think_ms,
                )
            )
            elapsed = time.monotonic() - started
            load_after = os.getloadavg()[0]
            cpu_after = (
                cpu_seconds(api_pids),
                cpu_seconds(sorted(set(pg_pids) | set(postgres_pids()))),
                own_cpu_seconds(),
            )
    endpoints = {name: summary(samples, elapsed) for name, samples in results.items()}
    everything = Samples(
        [v for s in results.values() for v in s.latencies_ms],
        sum(s.errors for s in results.values()),
    )
    overall = summary(everything, elapsed)
    floor = little_floor_ms(args.clients, float(overall["rps"]), args.think_ms)
    for values in endpoints.values():
        # Each client alternates the two requests, so both see the same queue: the mix's floor.
        values["little_floor_ms"] = floor
    used = [round(after - before, 1) for before, after in zip(cpu_before, cpu_after, strict=True)]
    print(
        json.dumps(
            {
                **overall,
                "little_floor_ms": floor,
                "endpoints": endpoints,
                "targets_p99_ms": TARGETS_P99_MS,
                "targets_met": {
                    name: endpoints[name]["p99_ms"] < target
                    for name, target in TARGETS_P99_MS.items()
                },
                "servers": args.servers,
                "clients": args.clients,
                "api_workers": args.api_workers,
                "think_ms": args.think_ms,
                "duration_s": round(elapsed, 1),
                "cpus": os.cpu_count(),
                "cpu_s": {"api": used[0], "postgres": used[1], "load_generator": used[2]},
                "load_avg_1m": {"start": round(load_before, 2), "end": round(load_after, 2)},
            }
        )
    )


if __name__ == "__main__":
    main()
