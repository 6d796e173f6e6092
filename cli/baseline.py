"""`idrac-orch baseline ...`: baselines, their compliance, drift and remediation, through
the API (roles and audit as for any client). Exit codes as for `campaign`.

The remediation dry run asks the API which campaigns it would create, then plans each
with the campaign planner (`idrac-orch campaign plan`'s own code) for the durations and
window fit, so a baseline's dry run and a hand-written campaign's agree.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter

from cli.baseline_render import render_drift, render_dry_run, render_report
from cli.campaign import (
    DEFAULT_API_URL,
    Api,
    ApiUrl,
    AsJson,
    CliError,
    Token,
    plan_request_for,
)
from cli.campaign import _instant as instant
from cli.campaign import _session as api_session
from domain.campaign_spec import Policy, Targets
from domain.remediation import HostPlan
from domain.remediation_preview import preview
from domain.rollout import plan_rollout

app = typer.Typer(
    help="Firmware baselines: define, check compliance, drift, remediate.", no_args_is_help=True
)
BaselineId = Annotated[int, typer.Argument(min=1, help="Baseline id.", show_default=False)]
_ANY: TypeAdapter[Any] = TypeAdapter(Any)
Many = Annotated[list[str] | None, typer.Option(show_default=False)]


def _pins(values: list[str]) -> dict[str, str]:
    pins = {}
    for value in values:
        component_id, sep, version = value.partition("=")
        if not sep or not component_id or not version:
            raise typer.BadParameter("COMPONENT_ID=VERSION, e.g. 159=2.13.0", param_hint="--pin")
        pins[component_id] = version
    return pins


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Baseline name.", show_default=False)],
    catalog: Annotated[int, typer.Option("--catalog", min=1, help="Catalog id.")],
    datacenter: Many = None,
    cluster: Many = None,
    host: Annotated[list[str] | None, typer.Option(help="ESXi host name or service tag.")] = None,
    criticality: Annotated[
        list[int] | None, typer.Option(help="Keep: 1 Recommended, 2 Urgent, 3 Optional.")
    ] = None,
    component_type: Annotated[
        list[str] | None, typer.Option("--type", help="Keep a ComponentType, e.g. BIOS.")
    ] = None,
    pin: Annotated[list[str] | None, typer.Option(help="COMPONENT_ID=VERSION.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Component id to ignore.")] = None,
    allow_downgrade: bool = False,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Define a baseline; no datacenter, cluster or host means the whole fleet."""
    body = {
        "name": name,
        "catalog_id": catalog,
        "scope": {"datacenters": datacenter or [], "clusters": cluster or [], "hosts": host or []},
        "filters": {
            "criticality": criticality or [],
            "component_types": component_type or [],
            "pinned": _pins(pin or []),
            "exclusions": exclude or [],
            "allow_downgrade": allow_downgrade,
        },
    }
    with api_session(api_url, token) as api:
        baseline = api.call("POST", "/baselines", json=body)
    typer.echo(json.dumps(baseline) if as_json else f"baseline {baseline['id']}: {name}")


@app.command("list")
def list_baselines(
    as_json: AsJson = False, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None
) -> None:
    """Every baseline."""
    with api_session(api_url, token) as api:
        baselines = api.every("/baselines")
    if as_json:
        typer.echo(json.dumps(baselines))
        return
    for b in baselines:
        typer.echo(f"baseline {b['id']}: {b['name']} (catalog {b['catalog_id']})")


@app.command("check")
def check(
    baseline_id: BaselineId,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Evaluate compliance now (kept in the history) and print the summary."""
    with api_session(api_url, token) as api:
        report = api.call("POST", f"/baselines/{baseline_id}/compliance")
    typer.echo(json.dumps(report) if as_json else render_report(report, detail=False))


@app.command("report")
def report(
    baseline_id: BaselineId,
    output: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    run: Annotated[int | None, typer.Option(min=1, help="An earlier evaluation.")] = None,
    state: Annotated[str | None, typer.Option(help="Only hosts in this state.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Only hosts of this cluster.")] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """The latest evaluation (or --run's), per host and component."""
    if output not in ("text", "json", "csv"):
        raise typer.BadParameter("text, json or csv", param_hint="--format")
    params = {"run_id": run, "state": state, "cluster": cluster}
    params = {k: v for k, v in params.items() if v is not None}
    with api_session(api_url, token) as api:
        url = f"/baselines/{baseline_id}/compliance"
        if output == "csv":
            response = api.http.get(url, params={**params, "format": "csv"})
            if not response.is_success:
                api.call("GET", url, params=params)  # raises the API's reason
            typer.echo(response.text, nl=False)
            return
        data = api.call("GET", url, params=params)
    typer.echo(json.dumps(data) if output == "json" else render_report(data))


@app.command("drift")
def drift(
    baseline_id: BaselineId,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Hosts off the baseline: since when, and what changed."""
    with api_session(api_url, token) as api:
        data = api.call("GET", f"/baselines/{baseline_id}/drift")
    typer.echo(json.dumps(data) if as_json else render_drift(data))


def dry_run(api: Api, baseline_id: int, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The API's remediation plan, each campaign planned by the campaign planner."""
    plan = api.call("POST", f"/baselines/{baseline_id}/remediation/plan", json=body)
    campaigns = []
    for draft in plan["campaigns"]:
        hosts = [HostPlan.model_validate(h) for h in draft["hosts"]]
        target = {f["component_id"]: f["version"] for f in draft["firmware"]}
        policy = Policy.model_validate(draft["policy"])
        try:
            request, unresolved, notes = plan_request_for(
                api,
                Targets(service_tags=draft["service_tags"]),
                target,
                policy,
                [],
                draft["window_ids"],
            )
            rollout = plan_rollout(request, now)
            why = "; ".join(unresolved) or "not planned"
        except CliError as exc:
            rollout, notes, why = None, [], str(exc)
        campaigns.append(
            {
                "campaign": draft,
                "hosts": preview(hosts, rollout, why),
                "makespan": rollout.makespan if rollout else None,
                "notes": notes,
            }
        )
    return {"baseline_id": baseline_id, "campaigns": campaigns, "skipped": plan["skipped"]}


@app.command("remediate")
def remediate(
    baseline_id: BaselineId,
    host: Annotated[
        list[str] | None, typer.Option(help="Only these hosts (ESXi name or service tag).")
    ] = None,
    window: Annotated[list[int] | None, typer.Option(help="Stored window id.")] = None,
    name: Annotated[str | None, typer.Option(help="Campaign name.")] = None,
    dry: Annotated[bool, typer.Option("--dry-run", help="Show the plan; create nothing.")] = False,
    now: Annotated[
        str | None, typer.Option(help="Plan from this instant (ISO 8601 with offset).")
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Create campaigns (one per SystemID, not started) bringing hosts to the baseline.

    --dry-run shows per host the packages, order, reboots, duration and window fit."""
    body: dict[str, Any] = {"window_ids": window or []}
    if host:
        body["hosts"] = host
    if name:
        body["name"] = name
    start_at = instant(now)
    with api_session(api_url, token) as api:
        if dry:
            result = dry_run(api, baseline_id, body, start_at)
            if as_json:
                typer.echo(_ANY.dump_json(result).decode())
            else:
                typer.echo(render_dry_run(result))
            return
        created = api.call("POST", f"/baselines/{baseline_id}/remediation", json=body)
    if as_json:
        typer.echo(json.dumps(created))
        return
    for campaign in created["campaigns"]:
        typer.echo(
            f"campaign {campaign['id']}: {campaign['name']} "
            f"(start it: idrac-orch campaign start --id {campaign['id']})"
        )
    for s in created["skipped"]:
        typer.echo(f"skipped {s['name']} [{s['service_tag']}]: {s['reason']}")
