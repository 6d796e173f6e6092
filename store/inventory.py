"""Inventory sweeps and what each server answered in each one: the history of health and
firmware, and the server's current health and inventory kept in line with the latest.

Readings are written per batch, idempotently: a retried batch replaces its own readings,
and a health change is measured against the server's reading in an earlier sweep, so a
retry never loses or doubles one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Engine, UniqueConstraint, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from domain.credential_scope import resolve
from domain.inventory import HostReading, SweepSummary
from store.credentials import Credential, all_scopes, reveal, server_facts
from store.crypto import SecretBox
from store.models import Server, _ts, utcnow


class InventorySweep(SQLModel, table=True):
    """One sweep over every managed iDRAC: who or what started it, and its counts."""

    __tablename__ = "inventory_sweeps"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=16)  # api | schedule
    status: str = Field(default="running", max_length=16, index=True)
    workflow_id: str | None = Field(default=None, max_length=128)
    created_by: str = Field(max_length=255)
    servers: int = 0
    read: int = 0
    unreachable: int = 0
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None, nullable=True)


class ServerReading(SQLModel, table=True):
    """What one server's iDRAC answered in one sweep (or why it did not)."""

    __tablename__ = "server_readings"
    __table_args__ = (UniqueConstraint("sweep_id", "server_id", name="uq_readings_sweep_server"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = Field(foreign_key="inventory_sweeps.id", index=True)
    server_id: int = Field(foreign_key="servers.id", index=True)
    taken_at: datetime = _ts(default_factory=utcnow)
    reachable: bool
    error: str | None = Field(default=None, max_length=2000)
    health: str | None = Field(default=None, max_length=16)
    health_was: str | None = Field(default=None, max_length=16)
    health_changed: bool = Field(default=False, index=True)
    rollups: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sensors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    firmware: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    service_tag: str | None = Field(default=None, max_length=64)  # the machine that answered
    system_id: str | None = Field(default=None, max_length=8)
    tag_mismatch: bool = Field(default=False, index=True)


def create_sweep(engine: Engine, trigger: str, created_by: str) -> int:
    with Session(engine) as session:
        sweep = InventorySweep(trigger=trigger, created_by=created_by)
        session.add(sweep)
        session.commit()
        return sweep.id or 0


def managed_server_ids(engine: Engine, sweep_id: int) -> list[int]:
    """Every server, in id order; the sweep records how many."""
    with Session(engine) as session:
        ids = list(session.exec(select(Server.id).order_by(col(Server.id))).all())
        sweep = session.get(InventorySweep, sweep_id)
        if sweep is not None:
            sweep.servers = len(ids)
            session.add(sweep)
            session.commit()
        return [i for i in ids if i is not None]


def sweep_logins(
    engine: Engine, secrets: SecretBox, server_ids: list[int]
) -> list[tuple[Server, Credential | None]]:
    """Each server with the login that applies (or None), each profile decrypted once for
    the whole batch."""
    with Session(engine) as session:
        servers = session.exec(select(Server).where(col(Server.id).in_(server_ids))).all()
        scopes = all_scopes(session)
        winners = {s.id: resolve(scopes, server_facts(s)) for s in servers}
        logins = {
            p: reveal(session, secrets, p)
            for p in {w.profile_id for w in winners.values() if w.profile_id is not None}
        }
    return [(s, logins.get(winners[s.id].profile_id or 0)) for s in servers]


def _previous_health(session: Session, sweep_id: int, server_ids: list[int]) -> dict[int, str]:
    """Each server's health in its latest answered reading before this sweep."""
    latest = (
        select(func.max(ServerReading.id))
        .where(
            col(ServerReading.server_id).in_(server_ids),
            col(ServerReading.sweep_id) < sweep_id,
            col(ServerReading.reachable).is_(True),
        )
        .group_by(col(ServerReading.server_id))
    )
    rows = session.exec(select(ServerReading).where(col(ServerReading.id).in_(latest))).all()
    return {r.server_id: r.health for r in rows if r.health is not None}


def record_readings(engine: Engine, sweep_id: int, readings: list[HostReading]) -> None:
    """A batch's readings, and each answering server's current health and firmware."""
    ids = [r.server_id for r in readings]
    now = utcnow()
    with Session(engine) as session:
        session.exec(  # type: ignore[call-overload]
            delete(ServerReading).where(
                col(ServerReading.sweep_id) == sweep_id, col(ServerReading.server_id).in_(ids)
            )
        )
        before = _previous_health(session, sweep_id, ids)
        servers = {s.id: s for s in session.exec(select(Server).where(col(Server.id).in_(ids)))}
        for reading in readings:
            server = servers.get(reading.server_id)
            if server is None:  # deleted while the sweep ran
                continue
            session.add(_row(sweep_id, reading, before.get(reading.server_id), server, now))
            if reading.reachable:
                _update_server(server, reading, now)
                session.add(server)
        session.commit()


def _row(
    sweep_id: int, reading: HostReading, was: str | None, server: Server, now: datetime
) -> ServerReading:
    health = reading.health.health if reading.health else None
    firmware = [f.model_dump() for f in reading.firmware] if reading.firmware is not None else None
    return ServerReading(
        sweep_id=sweep_id,
        server_id=reading.server_id,
        taken_at=now,
        reachable=reading.reachable,
        error=(reading.error or "")[:2000] or None,
        health=health,
        health_was=was,
        health_changed=reading.reachable and was is not None and was != health,
        rollups=reading.health.rollups if reading.health else {},
        sensors=[s.model_dump() for s in reading.health.sensors] if reading.health else [],
        # History keeps firmware only when it changed (every sweep would repeat it).
        firmware=firmware if firmware != server.firmware_inventory else None,
        service_tag=reading.service_tag,
        system_id=reading.system_id,
        tag_mismatch=reading.tag_mismatch,
    )


def _update_server(server: Server, reading: HostReading, now: datetime) -> None:
    if reading.health is not None and reading.health.health:
        server.health = reading.health.health
    if reading.firmware is not None:
        server.firmware_inventory = [f.model_dump() for f in reading.firmware]
    server.system_id = reading.system_id or server.system_id
    server.last_seen_at = now


def finish_sweep(engine: Engine, sweep_id: int) -> SweepSummary:
    with Session(engine) as session:
        sweep = session.get(InventorySweep, sweep_id)
        if sweep is None:
            raise LookupError(f"inventory sweep {sweep_id} does not exist")
        counts = dict(
            session.exec(
                select(ServerReading.reachable, func.count())
                .where(ServerReading.sweep_id == sweep_id)
                .group_by(col(ServerReading.reachable))
            ).all()
        )
        sweep.read, sweep.unreachable = counts.get(True, 0), counts.get(False, 0)
        if sweep.status == "running":
            sweep.status, sweep.finished_at = "completed", utcnow()
        session.add(sweep)
        session.commit()
        return SweepSummary(
            sweep_id=sweep_id, servers=sweep.servers, read=sweep.read, unreachable=sweep.unreachable
        )


def fail_sweep(engine: Engine, sweep_id: int, reason: str) -> None:
    with Session(engine) as session:
        sweep = session.get(InventorySweep, sweep_id)
        if sweep is not None and sweep.status == "running":
            sweep.status, sweep.error, sweep.finished_at = "failed", reason[:2000], utcnow()
            session.add(sweep)
            session.commit()
