"""Alembic environment: runs online against the URL the caller put in the config."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.audit_forwarding  # and the audit forwarder's cursor
import store.baselines  # and the baseline and compliance tables
import store.catalog  # and the catalog tables
import store.inventory  # and the inventory sweep tables
import store.models  # registers the tables on SQLModel.metadata
import store.notifications  # and the notification tables
import store.onboarding  # and the onboarding tables
import store.vcenter_sync  # noqa: F401  (and the vCenter sync tables)
from store.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Alembic's batch mode rebuilds a table (copy, drop, rename); with foreign keys
            # enforced, dropping a table other rows refer to would fail. Only outside a
            # transaction does this pragma take effect.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `idrac-orch db upgrade`")
run_migrations_online()
