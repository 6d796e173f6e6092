"""`idrac-orch inventory sweep|health`: read every managed iDRAC now, and one server's
health (current, sensors, changes), through the API. Exit codes as for `campaign`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.campaign import DEFAULT_API_URL, EXIT_USAGE, Api, ApiUrl, AsJson, CliError, Token
from cli.campaign import _session as api_session
from cli.discover import wait_for

app = typer.Typer(
    help="Firmware inventory and health of every managed iDRAC (the schedule keeps it current).",
    no_args_is_help=True,
)


def render_sweep(sweep: dict[str, Any]) -> str:
    lines = [
        f"inventory sweep {sweep['id']} ({sweep['trigger']}): {sweep['status']}, "
        f"{sweep['read']} of {sweep['servers']} iDRACs read, {sweep['unreachable']} unreachable"
    ]
    if sweep["error"]:
        lines.append(f"error: {sweep['error']}")
    lines += [
        f"unreachable: {s['service_tag']} ({s['idrac_address']}): {s['error']}"
        for s in sweep.get("unreachable_servers", [])
    ]
    return "\n".join(lines)


@app.command("sweep")
def sweep(
    wait: Annotated[bool, typer.Option(help="Wait for the result and print it.")] = True,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Read every managed iDRAC's firmware inventory and health now."""
    with api_session(api_url, token) as api:
        run = api.call("POST", "/inventory-sweeps")
        typer.echo(f"inventory sweep {run['id']} started", err=True)
        if wait:
            run = wait_for(api, f"/inventory-sweeps/{run['id']}")
        typer.echo(json.dumps(run) if as_json else render_sweep(run))
        if run["status"] == "failed":
            raise CliError(f"inventory sweep {run['id']} failed")


def _server_id(api: Api, server: str) -> int:
    """A server id as given, or the server with that service tag."""
    if server.isdigit():
        return int(server)
    found = api.call("GET", "/servers", params={"service_tag": server})["items"]
    if not found:
        raise CliError(f"no server with service tag {server}", EXIT_USAGE)
    return int(found[0]["id"])


def render_health(health: dict[str, Any]) -> str:
    lines = [f"{health['service_tag']}: health {health['health'] or 'unknown'}"]
    latest = health["latest"]
    if latest is not None:
        answered = "answered" if latest["reachable"] else f"did not answer: {latest['error']}"
        lines.append(
            f"latest reading {latest['taken_at']} (sweep {latest['sweep_id']}): {answered}"
        )
        lines += [f"  {name}: {value}" for name, value in sorted(latest["rollups"].items())]
        for sensor in latest["sensors"]:
            reading = "-" if sensor["reading"] is None else f"{sensor['reading']:g}"
            lines.append(
                f"  {sensor['kind']} {sensor['name']}: {reading} {sensor['units'] or ''} "
                f"{sensor['health'] or ''}".rstrip()
            )
    lines += [f"changed {c['taken_at']}: {c['was']} -> {c['now']}" for c in health["changes"]]
    return "\n".join(lines)


@app.command("health")
def health(
    server: Annotated[str, typer.Argument(help="Server id or service tag.", show_default=False)],
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """The server's current health, its latest sensors and rollups, and its changes."""
    with api_session(api_url, token) as api:
        found = api.call("GET", f"/servers/{_server_id(api, server)}/health")
        typer.echo(json.dumps(found) if as_json else render_health(found))
