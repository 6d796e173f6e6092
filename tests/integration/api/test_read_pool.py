"""The event-loop connection pool behind the hot server reads, on real PostgreSQL: a pooled
connection killed by the server (a database restart) is replaced without an error, a
request cancelled mid-query never hands its connection to the next one, and the pool never
opens more connections than its size."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from store.migrate import upgrade
from store.server_reads import AsyncReadPool, get_server_async, server_page_async
from tests.services.postgres import ADMIN_DSN


@pytest.fixture(scope="module")
def migrated(postgres_url: str) -> str:
    upgrade(postgres_url)
    return postgres_url


async def _backend_pid(connection: psycopg.AsyncConnection[Any]) -> int:
    cursor = await connection.execute("SELECT pg_backend_pid()")
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_only_postgresql_gets_a_pool(migrated: str) -> None:
    assert AsyncReadPool.for_url("sqlite:///x.db") is None
    assert AsyncReadPool.for_url(migrated) is not None


async def test_a_connection_killed_by_the_server_is_replaced(migrated: str) -> None:
    pool = AsyncReadPool.for_url(migrated, size=2)
    assert pool is not None
    try:
        first = await pool.run(_backend_pid)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        second = await pool.run(_backend_pid)  # the dead one is dropped, the query retried
        assert second != first
        assert await get_server_async(pool, 2_000_000_000) is None
        items, total = await server_page_async(pool, {"cluster_id": 2_000_000_000}, 10, 5)
        assert items == [] and total == 0
    finally:
        await pool.close()


async def test_a_cancelled_query_does_not_poison_the_pool(migrated: str) -> None:
    pool = AsyncReadPool.for_url(migrated, size=1)
    assert pool is not None
    try:

        async def slow(connection: psycopg.AsyncConnection[Any]) -> None:
            await connection.execute("SELECT pg_sleep(5)")

        task = asyncio.create_task(pool.run(slow))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The only slot is free again and the next request gets a clean connection.
        assert await asyncio.wait_for(pool.run(_backend_pid), timeout=5) > 0
    finally:
        await pool.close()


async def test_never_more_connections_than_its_size(migrated: str) -> None:
    pool = AsyncReadPool.for_url(migrated, size=3)
    assert pool is not None
    in_flight, peak = 0, 0

    async def slow_pid(connection: psycopg.AsyncConnection[Any]) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.02)  # long enough that all 40 callers queue up
            return await _backend_pid(connection)
        finally:
            in_flight -= 1

    try:
        pids = await asyncio.gather(*(pool.run(slow_pid) for _ in range(40)))
        # 40 callers, 3 connections: the pool filled up, never opened a fourth and reused
        assert peak == 3
        assert len(set(pids)) == 3
    finally:
        await pool.close()
