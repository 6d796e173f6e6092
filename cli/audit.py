"""`idrac-orch audit verify`: check the audit log's keyed hash chain (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from common.settings import get_settings
from store.audit import AuditKeys, verify
from store.db import make_engine

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@app.command("verify")
def verify_command(
    expect_head: Annotated[
        str | None,
        typer.Option(
            help="Head hash printed by an earlier verify: it must still be in the chain, "
            "which also detects rows removed from the end."
        ),
    ] = None,
) -> None:
    """Exit 0 if every entry matches its hash and follows the previous one, else 1."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        report = verify(engine, AuditKeys.from_settings(settings), expect_head)
    finally:
        engine.dispose()
    if not report.ok:
        typer.echo(
            f"TAMPERED: {report.problem} ({report.entries} entries verified before it)", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"ok: {report.entries} entries, head {report.head_hash}")
    if report.keyed_from is None:
        typer.echo(
            "warning: unkeyed (plain SHA-256): anyone who can write the database can rewrite "
            "it undetected; set IDRAC_ORCH_SECRET_KEY or IDRAC_ORCH_AUDIT_KEY",
            err=True,
        )
    elif report.keyed_from > 1:
        typer.echo(f"entries before seq {report.keyed_from} are unkeyed (legacy)", err=True)
