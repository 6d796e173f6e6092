"""`idrac-orch onboard import|validate|report`: enroll iDRACs in bulk and check them.

Through the API like every other command; exit codes as for `campaign`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from cli.campaign import (
    DEFAULT_API_URL,
    EXIT_USAGE,
    ApiUrl,
    CliError,
    Token,
)
from cli.campaign import _session as api_session

app = typer.Typer(
    help="Onboarding: bulk import of iDRAC addresses, validation, the readiness report.",
    no_args_is_help=True,
)
_MEDIA = {"csv": "text/csv", "yaml": "application/yaml"}


def _format(file: Path, given: str | None) -> Literal["csv", "yaml"]:
    chosen = given or {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}.get(file.suffix.lower())
    if chosen not in ("csv", "yaml"):
        raise CliError(f"{file}: say --format csv or yaml (unknown extension)", EXIT_USAGE)
    return chosen


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(dir_okay=False, show_default=False, help="CSV or YAML.")],
    format: Annotated[
        str | None, typer.Option(help="csv or yaml (default: from the extension).")
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Enroll the iDRACs listed in FILE: all rows or none; the same file twice is a no-op."""
    with api_session(api_url, token) as api:
        kind = _format(file, format)
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CliError(f"{file}: cannot read: {exc.strerror}", EXIT_USAGE) from None
        result = api.call(
            "POST",
            "/enrollments/import",
            content=content,
            headers={"Content-Type": _MEDIA[kind]},
        )
        typer.echo(
            f"{file}: {result['created']} created, {result['updated']} updated, "
            f"{result['unchanged']} unchanged"
        )
