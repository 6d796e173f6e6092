"""`idrac-orch discover RANGES...`: start a discovery through the API and report the diff.

Exit codes as for `campaign`: 0 done, 1 the API refused or the discovery failed, 2 bad
usage (the request is checked here first, with the API's own model).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli.campaign import (
    DEFAULT_API_URL,
    EXIT_USAGE,
    Api,
    ApiUrl,
    AsJson,
    CliError,
    Token,
    field_errors,
)
from cli.campaign import _session as api_session
from domain.discovery import (
    DEFAULT_ADDRESS_TIMEOUT_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT_S,
    DiscoveryRequest,
)

POLL_S = 1.0


def request_from(options: dict[str, Any]) -> DiscoveryRequest:
    try:
        return DiscoveryRequest.model_validate(options)
    except ValidationError as exc:
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors(include_input=False)]
        raise CliError(field_errors(errors), EXIT_USAGE) from None


def wait_for(api: Api, path: str) -> dict[str, Any]:
    """GET PATH (a run) until its status says it has finished."""
    while True:
        run = api.call("GET", path)
        if run["status"] not in ("running", "validating"):
            return run
        time.sleep(POLL_S)


def render(run: dict[str, Any]) -> str:
    diff = run["diff"] or {}
    lines = [
        f"discovery {run['id']}: {run['status']}, {run['scanned']} addresses scanned, "
        f"{run['answered']} Redfish services answered",
    ]
    if run["error"]:
        lines.append(f"error: {run['error']}")
    lines += [f"new: {address}" for address in diff.get("new", [])]
    lines += [f"gone: {address}" for address in diff.get("gone", [])]
    for change in diff.get("changed", []):
        fields = ", ".join(f"{k} {was} -> {now}" for k, (was, now) in change["fields"].items())
        lines.append(f"changed: {change['address']}: {fields}")
    if diff:
        lines.append(
            f"{len(diff['new'])} new, {len(diff['gone'])} gone, {len(diff['changed'])} "
            f"changed, {diff['unchanged']} unchanged, {diff['enrolled']} enrolled"
        )
    if "validated" in diff:
        lines.append(
            f"{diff['validated']} validated, {diff['passed']} passed "
            "(`idrac-orch onboard report` says why the others failed)"
        )
    return "\n".join(lines)


def discover(
    ranges: Annotated[
        list[str],
        typer.Argument(
            help="CIDR ranges or addresses to scan (explicit: nothing by default).",
            show_default=False,
        ),
    ],
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", "-x", help="Ranges to leave alone.")
    ] = None,
    port: Annotated[int, typer.Option(help="Redfish HTTPS port.")] = 443,
    concurrency: Annotated[int, typer.Option(help="Addresses probed at once.")] = (
        DEFAULT_CONCURRENCY
    ),
    connect_timeout: Annotated[float, typer.Option(help="Seconds to connect.")] = (
        DEFAULT_CONNECT_TIMEOUT_S
    ),
    timeout: Annotated[
        float, typer.Option(help="Seconds one address may take (a silent one ends here).")
    ] = DEFAULT_ADDRESS_TIMEOUT_S,
    profile: Annotated[
        int | None,
        typer.Option(help="Credential profile id to try (default: global/CIDR profiles)."),
    ] = None,
    enroll: Annotated[bool, typer.Option(help="Enroll what answers, for validation.")] = True,
    validate: Annotated[
        bool,
        typer.Option("--validate", help="Then validate what was found (creates its servers)."),
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait for the result and print the diff.")] = True,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Scan RANGES for iDRACs; report what is new, gone or changed since the last run."""
    with api_session(api_url, token) as api:
        request = request_from(
            {
                "ranges": ranges,
                "exclude": exclude or [],
                "port": port,
                "concurrency": concurrency,
                "connect_timeout_s": connect_timeout,
                "address_timeout_s": timeout,
                "credential_profile_id": profile,
                "enroll": enroll,
                "validate_enrolled": validate,
            }
        )
        run = api.call("POST", "/discoveries", json=request.model_dump(mode="json"))
        typer.echo(f"discovery {run['id']} started", err=True)
        if wait:
            run = wait_for(api, f"/discoveries/{run['id']}")
        typer.echo(json.dumps(run) if as_json else render(run))
        if run["status"] == "failed":
            raise CliError(f"discovery {run['id']} failed")
