"""PostgreSQL: migrations build the schema in a fresh database and SQLModel round-trips."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store.db import make_engine
from store.migrate import current_revision, head_revision, upgrade
from store.models import Datacenter, Server


def test_migrations_then_round_trip(postgres_url: str) -> None:
    upgrade(postgres_url)
    upgrade(postgres_url)  # a second run at start-up is a no-op, not an error
    engine = make_engine(postgres_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert current_revision(engine) == head_revision()
        assert {"datacenters", "servers"} <= set(inspect(engine).get_table_names())

        with Session(engine) as session:
            dc = Datacenter(name="dc-smoke", timezone="Europe/Amsterdam")
            session.add(dc)
            session.commit()
            session.add(
                Server(service_tag="SMK0001", idrac_address="127.20.9.1", datacenter_id=dc.id)
            )
            session.commit()

        with Session(engine) as session:
            server, datacenter = session.exec(
                select(Server, Datacenter).join(Datacenter).where(Server.service_tag == "SMK0001")
            ).one()
            assert (server.idrac_address, datacenter.timezone) == ("127.20.9.1", "Europe/Amsterdam")
            assert server.created_at.tzinfo is not None

            session.add(Server(service_tag="SMK0001", idrac_address="127.20.9.2"))
            with pytest.raises(IntegrityError):
                session.commit()
    finally:
        engine.dispose()
