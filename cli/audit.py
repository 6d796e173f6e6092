"""`idrac-orch audit verify`: check the audit log's keyed hash chain (docs/api.md);
`idrac-orch audit forward`: forward it to syslog on its own (docs/audit.md)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from common.logging import configure_logging
from common.settings import get_settings
from store.audit import AuditKeys, verify
from store.db import make_engine
from workers.audit_forwarder import AuditForwarder, target_of

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


@app.command("forward")
def forward_command() -> None:
    """Forward the audit log to IDRAC_ORCH_AUDIT_SYSLOG_HOST until SIGINT/SIGTERM (workers
    already do this when it is set; this runs it without a worker)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    target = target_of(settings)
    if target is None:
        raise typer.BadParameter("not set", param_hint="IDRAC_ORCH_AUDIT_SYSLOG_HOST")
    engine = make_engine(settings.effective_database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await AuditForwarder(engine, settings, target).run(stop)

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
