"""API load: 10,000 servers, 200 concurrent clients on loopback, 30 s, list and get.

Starts the real API (`uvicorn api.main:create_app`, one process, access log off) in a
subprocess over a throw-away PostgreSQL database, seeds the inventory, logs in as the
break-glass admin, then runs closed-loop clients that each alternate between
``GET /servers/{id}`` (random id) and ``GET /servers?cluster_id=..&limit=100&offset=..``
(a filtered page of 100). The last stdout line is one JSON object.

    .venv/bin/python benchmarks/api_load.py [--clients 200] [--duration 30] [--servers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
def api_process(url: str, port: int) -> Iterator[str]:
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
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


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
            await self.writer.wait_closed()


async def client_loop(
    connection: Connection,
    stop_at: float,
    servers: int,
    clusters: list[int],
    results: dict[str, Samples],
    rng: random.Random,
) -> None:
    per_cluster = servers // len(clusters)
    turn = rng.randrange(2)
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
    await connection.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(samples: Samples, duration: float) -> dict[str, float | int]:
    values = samples.latencies_ms
    return {
        "rps": round(len(values) / duration, 1),
        "p50_ms": round(statistics.median(values), 1) if values else float("nan"),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "errors": samples.errors,
        "requests": len(values) + samples.errors,
    }


async def run_load(
    base: str, token: str, clients: int, duration: float, servers: int, clusters: list[int]
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
    args = parser.parse_args()
    import socket

    port = args.port
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

    with scratch_database() as url:
        clusters = seed(url, args.servers)
        print(f"seeded {args.servers} servers in {len(clusters)} clusters", file=sys.stderr)
        with api_process(url, port) as base:
            login = httpx.post(
                f"{base}/auth/login", json={"username": "bench", "password": BREAKGLASS_PASSWORD}
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            started = time.monotonic()
            results = asyncio.run(
                run_load(base, token, args.clients, args.duration, args.servers, clusters)
            )
            elapsed = time.monotonic() - started
    endpoints = {name: summary(samples, elapsed) for name, samples in results.items()}
    everything = Samples(
        [v for s in results.values() for v in s.latencies_ms],
        sum(s.errors for s in results.values()),
    )
    print(
        json.dumps(
            {
                **summary(everything, elapsed),
                "endpoints": endpoints,
                "targets_p99_ms": TARGETS_P99_MS,
                "targets_met": {
                    name: endpoints[name]["p99_ms"] < target
                    for name, target in TARGETS_P99_MS.items()
                },
                "servers": args.servers,
                "clients": args.clients,
                "duration_s": round(elapsed, 1),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
