"""`idrac-orch onboard import|validate|report`: enroll iDRACs in bulk and check them.

Through the API like every other command; exit codes as for `campaign`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from cli.campaign import (
    DEFAULT_API_URL,
    EXIT_USAGE,
    ApiUrl,
    AsJson,
    CliError,
    Token,
)
from cli.campaign import _session as api_session
from cli.discover import POLL_S
from domain.onboarding import Check, CheckResult, CheckState, report_csv, warnings

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


@app.command("validate")
def validate(
    enrollment: Annotated[
        list[int] | None, typer.Option("--id", min=1, help="Enrollment ids (default: all).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait and print the summary.")] = True,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Read every enrolled iDRAC (or --id ones), link its server, record the verdict."""
    with api_session(api_url, token) as api:
        body = {"enrollment_ids": enrollment} if enrollment else {}
        workflow_id = api.call("POST", "/onboarding/validations", json=body)["workflow_id"]
        typer.echo(f"validation {workflow_id} started", err=True)
        if not wait:
            typer.echo(workflow_id)
            return
        while (state := api.call("GET", f"/onboarding/validations/{workflow_id}"))[
            "status"
        ] == "RUNNING":
            time.sleep(POLL_S)
        if state["summary"] is None:
            raise CliError(f"validation {workflow_id} ended {state['status']}")
        summary = state["summary"]
        typer.echo(
            f"{summary['validated']} validated: {summary['passed']} passed, "
            f"{summary['failed']} failed (`idrac-orch onboard report` says why)"
        )


def render_report(rows: list[dict[str, Any]]) -> str:
    """A table: one line per iDRAC, a mark per check, then the reasons of the failures
    and what passed with a warning."""
    header = ["address", "service tag", "status", *(ABBREVIATIONS[c] for c in Check)]
    lines, notes = [header], []
    for row in rows:
        results = [CheckResult.model_validate(c) for c in row["checks"]]
        states = {r.check: r.state for r in results}
        marks = [MARKS[states[c]] if c in states else "-" for c in Check]
        lines.append([row["address"], row["service_tag"] or "", row["status"], *marks])
        notes += [f"{row['address']}: warning: {w}" for w in warnings(results)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text += [f"{row['address']}: {row['reason']}" for row in rows if row["reason"]]
    return "\n".join(text + notes)


MARKS = {
    CheckState.PASS: "ok",
    CheckState.WARN: "warn",
    CheckState.UNKNOWN: "unknown",
    CheckState.FAIL: "FAIL",
}


ABBREVIATIONS = {
    "reachable": "reach",
    "tls": "tls",
    "credentials": "login",
    "redfish_version": "redfish",
    "idrac": "idrac",
    "license": "license",
    "lifecycle_controller": "lc",
    "job_queue": "jobs",
    "firmware_inventory": "inventory",
    "esxi_host": "esxi",
}


@app.command("report")
def report(
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV, as GET /onboarding/report?format=csv.")
    ] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Per enrolled iDRAC: every check of its latest validation; failures keep the server
    out of campaigns until a later validation passes."""
    with api_session(api_url, token) as api:
        rows = api.call("GET", "/onboarding/report")
    if as_csv:
        typer.echo(report_csv(rows), nl=False)
    else:
        typer.echo(json.dumps(rows) if as_json else render_report(rows))
