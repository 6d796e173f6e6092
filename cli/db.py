"""`idrac-orch db ...`: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from common.logging import configure_logging
from common.settings import get_settings
from store.db import make_engine
from store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at revision {revision if revision != 'head' else head_revision()}")


@app.command("current")
def current_command() -> None:
    """Print the revision the database is at, and the newest one this code knows."""
    engine = make_engine(get_settings().effective_database_url)
    typer.echo(f"current: {current_revision(engine) or '(empty)'}  head: {head_revision()}")
    engine.dispose()
