"""`idrac-orch vcenter sync ID` and `vcenter syncs ID`: vCenter synchronisation through the
API (the worker's schedule runs the same sync). Exit codes as for `campaign`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.campaign import DEFAULT_API_URL, ApiUrl, AsJson, CliError, Token
from cli.campaign import _session as api_session
from cli.discover import wait_for

VcenterId = Annotated[int, typer.Argument(min=1, help="vCenter id (GET /vcenters).")]


def _host(entry: dict[str, Any]) -> str:
    server = f"server {entry['server_id']}" if entry["server_id"] else "no server"
    return f"{entry['name']} ({entry['service_tag'] or 'no service tag'}, {server})"


def _campaigns(entry: dict[str, Any]) -> str:
    held = entry["open_campaigns"]
    return f"; still in open campaign(s) {', '.join(map(str, held))}" if held else ""


def render(run: dict[str, Any]) -> str:
    lines = [f"vCenter {run['vcenter_id']} sync {run['id']} ({run['trigger']}): {run['status']}"]
    if run["error"]:
        lines.append(f"error: {run['error']}")
    report = run["report"]
    if not report:
        return "\n".join(lines)
    lines += [f"new: {_host(e)} in {e['cluster'] or 'no cluster'}" for e in report["new"]]
    lines += [
        f"moved: {_host(e)} {e['from_cluster']} -> {e['cluster']}{_campaigns(e)}"
        for e in report["moved"]
    ]
    lines += [f"removed: {_host(e)} from {e['cluster']}{_campaigns(e)}" for e in report["removed"]]
    lines += [f"unmatched: {_host(e)}" for e in report["unmatched"]]
    lines.append(
        f"{report['datacenters']} datacenters, {report['clusters']} clusters, "
        f"{report['hosts']} hosts ({report['linked']} linked to servers by service tag): "
        f"{len(report['new'])} new, {len(report['moved'])} moved, "
        f"{len(report['removed'])} removed, {len(report['unmatched'])} unmatched"
    )
    return "\n".join(lines)


def sync(
    vcenter_id: VcenterId,
    wait: Annotated[bool, typer.Option(help="Wait for the result and print the report.")] = True,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Import the vCenter's datacenters, clusters and hosts now; report what changed."""
    with api_session(api_url, token) as api:
        run = api.call("POST", f"/vcenters/{vcenter_id}/sync")
        typer.echo(f"vCenter sync {run['id']} started", err=True)
        if wait:
            run = wait_for(api, f"/vcenters/{vcenter_id}/syncs/{run['id']}")
        typer.echo(json.dumps(run) if as_json else render(run))
        if run["status"] == "failed":
            raise CliError(f"vCenter sync {run['id']} failed")


def syncs(
    vcenter_id: VcenterId,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 10,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """The vCenter's recent sync runs (scheduled and on demand) with their reports."""
    with api_session(api_url, token) as api:
        page = api.call("GET", f"/vcenters/{vcenter_id}/syncs", params={"limit": limit})
        runs = page["items"]
        typer.echo(json.dumps(runs) if as_json else "\n\n".join(render(r) for r in runs))
