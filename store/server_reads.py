"""The two hot inventory reads (one server, a filtered page of servers) as plain rows.

On PostgreSQL they run in the API's event loop on a small pool of psycopg async
connections: no worker thread, no thread hop, no GIL hand-over per request - profiles of
200 concurrent clients showed those costing about a third of the API's CPU. Anywhere else
(SQLite) the same queries run through SQLAlchemy in a worker thread.

Both paths return the same dicts: column name -> value, instants aware and in UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from store.models import Server

T = TypeVar("T")
Row = dict[str, Any]

_TABLE = Server.__table__  # type: ignore[attr-defined]
COLUMNS: tuple[str, ...] = tuple(column.name for column in _TABLE.columns)
_INSTANTS = tuple(column.name for column in _TABLE.columns if column.type.python_type is datetime)
FILTERS = ("datacenter_id", "cluster_id", "model", "health", "service_tag")
# Identifiers come from the table definition and the FILTERS allow-list; values are always
# bound parameters.
_SELECT = "SELECT " + ", ".join(f'"{name}"' for name in COLUMNS) + " FROM servers"  # noqa: S608


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _active(filters: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"not a server filter: {sorted(unknown)}")
    return {name: value for name, value in filters.items() if value is not None}


# --- SQLAlchemy, in a worker thread (any database) --------------------------------------


def get_server(engine: Engine, server_id: int) -> Row | None:
    with engine.connect() as connection:
        row = connection.execute(select(_TABLE).where(_TABLE.c.id == server_id)).mappings().first()
    return dict(row) if row is not None else None


def server_page(
    engine: Engine, filters: Mapping[str, Any], limit: int, offset: int
) -> tuple[list[Row], int]:
    conditions = [_TABLE.c[name] == value for name, value in _active(filters).items()]
    total_of = select(func.count()).select_from(_TABLE).where(*conditions)
    statement = (
        select(_TABLE, total_of.scalar_subquery().label("__total"))
        .where(*conditions)
        .order_by(_TABLE.c.id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        result = connection.execute(statement)
        rows = result.all()
        # Past the last page, or no match: no row carried the total.
        total = (
            rows[0][-1] if rows else (connection.execute(total_of).scalar_one() if offset else 0)
        )
    return [dict(zip(COLUMNS, row[:-1], strict=True)) for row in rows], total


# --- psycopg async, in the event loop (PostgreSQL) --------------------------------------


class AsyncReadPool:
    """A few autocommit psycopg connections shared by the event loop's read requests.

    Autocommit: a single SELECT needs no BEGIN/ROLLBACK round trips. A connection that
    fails is dropped; a request whose pooled connection turned out dead (the database
    restarted) is retried once on a fresh one, as SQLAlchemy's pre-ping would have done.
    """

    def __init__(self, conninfo: str, size: int = 8, connect_timeout_s: float = 10.0) -> None:
        self._conninfo, self._timeout = conninfo, connect_timeout_s
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._closed = False

    @classmethod
    def for_url(cls, url: str, size: int = 8) -> AsyncReadPool | None:
        """A pool for a PostgreSQL SQLAlchemy URL; None for any other database."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return None
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(conninfo, size)

    async def run(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        for attempt in range(2):
            async with self._slots:
                if self._closed:
                    raise RuntimeError("the read pool is closed")
                reused = bool(self._idle)
                connection = self._idle.pop() if reused else await self._connect()
                try:
                    result = await work(connection)
                except psycopg.OperationalError:
                    self._drop(connection)
                    if reused and attempt == 0:
                        continue
                    raise
                except BaseException:
                    # Cancelled or failed mid-query: its state is unknown, never reuse it.
                    self._drop(connection)
                    raise
                if connection.broken or connection.closed:
                    self._drop(connection)
                else:
                    self._idle.append(connection)
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=max(int(self._timeout), 1)
        )

    @staticmethod
    def _drop(connection: psycopg.AsyncConnection[Any]) -> None:
        connection.pgconn.finish()  # synchronous: safe inside a cancelled task

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            await self._idle.pop().close()


def _row(values: tuple[Any, ...]) -> Row:
    row = dict(zip(COLUMNS, values, strict=True))
    for name in _INSTANTS:
        row[name] = _utc(row[name])
    return row


async def get_server_async(pool: AsyncReadPool, server_id: int) -> Row | None:
    async def work(connection: psycopg.AsyncConnection[Any]) -> tuple[Any, ...] | None:
        cursor = await connection.execute(_SELECT + " WHERE id = %(id)s", {"id": server_id})
        return await cursor.fetchone()

    values = await pool.run(work)
    return _row(values) if values is not None else None


async def server_page_async(
    pool: AsyncReadPool, filters: Mapping[str, Any], limit: int, offset: int
) -> tuple[list[Row], int]:
    active = _active(filters)
    where = (" WHERE " + " AND ".join(f'"{n}" = %({n})s' for n in active)) if active else ""
    count_sql = "SELECT count(*) FROM servers" + where  # noqa: S608 (allow-listed names)
    page_sql = (
        _SELECT.replace(" FROM servers", f", ({count_sql}) AS __total FROM servers", 1)
        + where
        + " ORDER BY id LIMIT %(limit)s OFFSET %(offset)s"
    )
    params = {**active, "limit": limit, "offset": offset}

    async def work(connection: psycopg.AsyncConnection[Any]) -> tuple[list[Any], int]:
        cursor = await connection.execute(page_sql, params)
        rows = await cursor.fetchall()
        if rows:
            return rows, rows[0][-1]
        if not offset:
            return rows, 0
        counted = await (await connection.execute(count_sql, active)).fetchone()
        return rows, counted[0] if counted else 0

    rows, total = await pool.run(work)
    return [_row(row[:-1]) for row in rows], total
