"""`idrac-orch secrets ...`: key rotation for stored credentials, break-glass hashes."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from api.security import hash_password
from common.settings import get_settings
from store.credentials import rotate_all
from store.crypto import SecretBox, SecretKeyMissingError, SecretUnreadableError
from store.db import make_engine
from store.notify_outbox import rotate_channel_secrets

app = typer.Typer(help="Stored secrets: key rotation, password hashes.", no_args_is_help=True)


@app.command("rotate")
def rotate() -> None:
    """Re-encrypt every credential and notification channel secret under IDRAC_ORCH_SECRET_KEY.

    Put the old key in IDRAC_ORCH_PREVIOUS_SECRET_KEYS (JSON list) first; remove it once
    this reports zero secrets left under other keys. All or nothing: one transaction.
    """
    settings = get_settings()
    try:
        box = SecretBox.from_settings(settings)
    except SecretKeyMissingError as exc:
        raise typer.BadParameter(str(exc), param_hint="IDRAC_ORCH_SECRET_KEY") from None
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            channels = rotate_channel_secrets(session, box)  # committed with the profiles
            result = rotate_all(session, box)
    except SecretUnreadableError as exc:
        typer.echo(f"rotation aborted, nothing changed: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"re-encrypted {result.rotated} secret(s) under key {box.current_key_id}; "
        f"{result.already_current} already current"
    )
    typer.echo(f"re-encrypted {channels} notification channel secret(s)")


@app.command("hash-password")
def hash_password_command(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Print a scrypt hash for IDRAC_ORCH_BREAKGLASS_PASSWORD_HASH."""
    typer.echo(hash_password(password))
