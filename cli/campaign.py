"""`idrac-orch campaign ...`: start, watch, pause, resume, abort and dry-run campaigns.

Every command goes through the HTTP API, never the database or Temporal directly, so the
API checks roles and records the audit trail exactly as for any other client.

Exit codes: 0 done; 1 the API refused or could not be reached (one line on stderr saying
why); 2 bad usage or an unreadable or invalid campaign file.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
import yaml
from pydantic import TypeAdapter, ValidationError

from api.campaign_schemas import CampaignCreate
from api.campaign_status import FINAL, status_text
from common import safe_yaml
from domain.campaign_spec import Policy, Targets, Window
from domain.onboarding import held_reason
from domain.rollout import (
    ClusterInventory,
    HostInventory,
    InstalledComponent,
    PlanRequest,
    plan_rollout,
)
from domain.runbook import CampaignResult, CampaignStatus, ComponentOutcome, RolloutProblem
from domain.site_windows import in_datacenter, no_window_applies, windows_for
from domain.windows import parse_windows

app = typer.Typer(
    help="Campaigns through the API: start, status, pause, resume, abort, plan (dry run).",
    no_args_is_help=True,
)

DEFAULT_API_URL = "http://127.0.0.1:8000"
EXIT_API, EXIT_USAGE = 1, 2
PAGE = 500

ApiUrl = Annotated[
    str,
    typer.Option("--api-url", envvar="IDRAC_ORCH_API_URL", help="Base URL of the idrac-orch API."),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="IDRAC_ORCH_API_TOKEN",
        show_default=False,
        help="Bearer token: an API token (ido_...) or a login token. Prefer the environment "
        "variable (a command line is visible to other users); it is never printed.",
    ),
]
CampaignId = Annotated[int, typer.Argument(min=1, help="Campaign id.", show_default=False)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class CliError(Exception):
    """A one-line reason for the operator, and the exit code that goes with it."""

    def __init__(self, message: str, code: int = EXIT_API) -> None:
        super().__init__(message)
        self.code = code


# --- talking to the API ------------------------------------------------------------------


def field_errors(errors: list[dict[str, Any]]) -> str:
    """FastAPI/pydantic errors as `invalid spec.policy.x: msg; ...`, named as in the file."""
    parts = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", [])]
        field = ".".join(loc[1:] if loc[:1] == ["body"] else loc) or "request"
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "invalid " + "; ".join(parts)


def _explain(response: httpx.Response) -> str:
    try:
        detail: Any = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        detail = response.text
    code = response.status_code
    if code == 422 and isinstance(detail, list):
        return field_errors(detail)
    text = " ".join(str(detail).split())[:300] or response.reason_phrase
    reasons = {
        401: f"not authenticated ({text}): pass --token or set IDRAC_ORCH_API_TOKEN",
        403: f"permission denied: {text}",
        404: f"not found: {text}",
        409: f"conflict: {text}",
        429: f"too many requests: {text}",
        503: f"service unavailable: {text}",
    }
    return reasons.get(code, f"the API answered HTTP {code}: {text}")


class Api:
    """The API calls the CLI makes; any failure becomes a CliError with a readable reason."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the API at {self.url}: {type(exc).__name__}") from None
        if response.is_success:
            return response.json() if response.content else None
        raise CliError(_explain(response))

    def every(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """All items of a paged list endpoint."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", path, params={**params, "limit": PAGE, "offset": len(items)})
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items


@contextmanager
def _session(url: str, token: str | None) -> Iterator[Api]:
    """An API client; a CliError ends the command with its one-line reason."""
    api = Api(url, token)
    try:
        yield api
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.code) from None
    finally:
        api.http.close()


# --- the campaign file -------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads 22:00 as the base-60 integer 1320; a window start must stay "22:00"."""


def _int_or_clock(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    text = str(loader.construct_scalar(node))
    return text if ":" in text else int(yaml.SafeLoader.construct_yaml_int(loader, node))


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_clock)


def _plain(value: Any) -> Any:
    """YAML dates and times as the ISO strings the API expects."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date | clock):
        return value.isoformat()
    return value


def load_campaign_file(path: Path) -> dict[str, Any]:
    """The body of POST /campaigns, read from YAML or JSON (JSON is YAML)."""
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"), _Loader)
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror}", EXIT_USAGE) from None
    except safe_yaml.YamlTooLargeError as exc:
        raise CliError(f"{path}: refused: {exc}", EXIT_USAGE) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CliError(f"{path}: not valid YAML or JSON{where}", EXIT_USAGE) from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected a mapping with name and spec", EXIT_USAGE)
    return _plain(data)


def checked(path: Path, body: dict[str, Any]) -> CampaignCreate:
    """The model the API validates POST /campaigns with: the same errors, before any request.

    References (clusters, hosts, packages, windows) only the API can check.
    """
    try:
        return CampaignCreate.model_validate(body)
    except ValidationError as exc:
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors(include_input=False)]
        raise CliError(f"{path}: {field_errors(errors)}", EXIT_USAGE) from None


# --- commands ----------------------------------------------------------------------------


@app.command("start")
def start(
    file: Annotated[
        Path | None,
        typer.Argument(dir_okay=False, help="Campaign file (YAML or JSON).", show_default=False),
    ] = None,
    existing: Annotated[
        int | None,
        typer.Option("--id", min=1, help="Start an already created campaign instead (idempotent)."),
    ] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Create the campaign from FILE and start it; prints the campaign id on stdout."""
    if (file is None) == (existing is None):
        raise typer.BadParameter("give either FILE or --id, not both", param_hint="FILE / --id")
    with _session(api_url, token) as api:
        if file is not None:
            body = load_campaign_file(file)
            checked(file, body)
            existing = int(api.call("POST", "/campaigns", json=body)["id"])
            typer.echo(f"campaign {existing} created", err=True)
        try:
            started = api.call("POST", f"/campaigns/{existing}/start")
        except CliError as exc:
            raise CliError(
                f"campaign {existing} not started: {exc}; "
                f"retry with `idrac-orch campaign start --id {existing}`"
            ) from None
        typer.echo(
            f"campaign {existing} {started['status']} as workflow {started['workflow_id']}",
            err=True,
        )
        typer.echo(str(existing))


@app.command("status")
def status(
    campaign_id: CampaignId,
    as_json: AsJson = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh until the campaign has ended.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between refreshes with --watch.")
    ] = 5.0,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """State, live workflow status and per-host outcomes of one campaign."""
    with _session(api_url, token) as api:
        reader = StatusReader(api)
        while True:
            detail, hosts = reader.read(campaign_id)
            if as_json:
                typer.echo(json.dumps({**detail, "hosts": hosts}, separators=(",", ":")))
            else:
                if watch and sys.stdout.isatty():
                    typer.echo("\033[H\033[J", nl=False)
                typer.echo(render_status(detail, hosts))
            if not watch or detail["status"] in FINAL:
                return
            sys.stdout.flush()
            time.sleep(interval)


@app.command("pause")
def pause(campaign_id: CampaignId, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """No new host starts; hosts already in flight finish."""
    with _session(api_url, token) as api:
        api.call("POST", f"/campaigns/{campaign_id}/pause")
    typer.echo(f"campaign {campaign_id}: paused (hosts in flight finish, no new host starts)")


@app.command("resume")
def resume(campaign_id: CampaignId, api_url: ApiUrl = DEFAULT_API_URL, token: Token = None) -> None:
    """Resume a paused campaign."""
    with _session(api_url, token) as api:
        api.call("POST", f"/campaigns/{campaign_id}/resume")
    typer.echo(f"campaign {campaign_id}: running")


@app.command("abort")
def abort(
    campaign_id: CampaignId,
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).", show_default=False)],
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Stop the campaign: no new host starts; hosts in flight finish or compensate."""
    with _session(api_url, token) as api:
        api.call("POST", f"/campaigns/{campaign_id}/abort", json={"reason": reason})
    typer.echo(f"campaign {campaign_id}: aborting (hosts in flight finish or compensate)")


def _decide(api_url: str, token: str | None, path: str, body: dict[str, Any]) -> None:
    with _session(api_url, token) as api:
        api.call("POST", path, json=body)


ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Decide on this cluster only (campaigns whose policy approves per cluster).",
        show_default=False,
    ),
]


def _decision_path(campaign_id: int, cluster: str | None, verb: str) -> str:
    if cluster is None:
        return f"/campaigns/{campaign_id}/{verb}"
    return f"/campaigns/{campaign_id}/clusters/{quote(cluster, safe='')}/{verb}"


@app.command("approve")
def approve(
    campaign_id: CampaignId,
    comment: Annotated[str | None, typer.Option("--comment", help="Note (audited).")] = None,
    cluster: ClusterOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Approve a campaign (or, with --cluster, one of its clusters) waiting for approval
    (approver right; never your own campaign)."""
    _decide(api_url, token, _decision_path(campaign_id, cluster, "approve"), {"comment": comment})
    what = f"campaign {campaign_id}" + (f" cluster {cluster}" if cluster else "")
    typer.echo(f"{what}: approved (it starts once enough approvers agree)")


@app.command("reject")
def reject(
    campaign_id: CampaignId,
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).", show_default=False)],
    cluster: ClusterOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Reject a campaign waiting for approval: it ends aborted, no host touched. With
    --cluster: only that cluster ends, no host of it touched; the others go on."""
    _decide(api_url, token, _decision_path(campaign_id, cluster, "reject"), {"reason": reason})
    if cluster:
        typer.echo(f"campaign {campaign_id} cluster {cluster}: rejected (no host of it touched)")
    else:
        typer.echo(f"campaign {campaign_id}: rejected (it ends without touching a host)")


@app.command("plan")
def plan(
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, help="Campaign file (YAML or JSON).", show_default=False),
    ],
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Plan as if starting at this instant (ISO 8601 with offset); default: now.",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
    api_url: ApiUrl = DEFAULT_API_URL,
    token: Token = None,
) -> None:
    """Dry run: which hosts get what, in which order and waves, and the makespan.

    Computed here from the file and the inventory read through the API (the API has no
    plan endpoint); nothing is created or changed.
    """
    start_at = _instant(now)
    with _session(api_url, token) as api:
        body = checked(file, load_campaign_file(file))
        request, unresolved, notes = build_plan_request(api, body)
        rollout = plan_rollout(request, start_at)
    if as_json:
        typer.echo(
            json.dumps(
                {"plan": rollout.model_dump(mode="json"), "unresolved": unresolved, "notes": notes}
            )
        )
        return
    typer.echo(rollout.render_text())
    for line in unresolved:
        typer.echo(f"unresolved target: {line}")
    for line in notes:
        typer.echo(f"note: {line}")


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("not an ISO 8601 instant", param_hint="--now") from None
    if value.utcoffset() is None:
        raise typer.BadParameter(
            "needs a UTC offset, e.g. 2026-12-05T21:00:00+00:00", param_hint="--now"
        )
    return value


# --- plan: the spec plus inventory read through the API ----------------------------------


def build_plan_request(api: Api, body: CampaignCreate) -> tuple[PlanRequest, list[str], list[str]]:
    """The rollout planner's input, hosts chosen the way the campaign's plan activity does.

    Returns the request, the targets that matched nothing, and caveats for the reader.
    """
    target = {item.component_id: item.version for item in body.spec.firmware}
    return plan_request_for(
        api, body.spec.targets, target, body.spec.policy, body.spec.windows, body.window_ids
    )


def plan_request_for(
    api: Api,
    targets: Targets,
    target: dict[str, str],
    policy: Policy,
    inline_windows: list[Window],
    window_ids: list[int],
) -> tuple[PlanRequest, list[str], list[str]]:
    """:func:`build_plan_request` from a campaign's parts, its packages not needed: what a
    baseline's remediation dry run plans before the repository has every package."""
    clusters = {c["id"]: c for c in api.every("/clusters")}
    datacenters = {d["id"]: d for d in api.every("/datacenters")}
    stored = [api.call("GET", f"/windows/{i}") for i in window_ids]
    windows = [*inline_windows, *(_scoped(row, datacenters) for row in stored)]
    servers = [s for s in api.every("/servers") if s["cluster_id"] in clusters]
    chosen, unresolved = _select(targets, clusters, servers)
    # Onboarding gate, as the plan activity applies it: failed validations stay out.
    held = {
        r["server_id"]: r["reason"]
        for r in api.call("GET", "/onboarding/report")
        if r["status"] == "failed" and r["server_id"] is not None
    }
    unresolved += [
        f"service tag {s['service_tag']}: {held_reason(held[s['id']])}"
        for s in chosen
        if s["id"] in held
    ]
    chosen = [s for s in chosen if s["id"] not in held]
    if not chosen:
        raise CliError("no targeted server is in the inventory: " + "; ".join(unresolved))
    notes = [
        "VM counts are not in the inventory: evacuation is estimated for 0 VMs per host",
        "vCenter's live capacity (HA admission control, hosts already in maintenance) "
        "may allow fewer hosts at once than planned",
    ]
    size = Counter(s["cluster_id"] for s in servers)
    repeated = {n for n, k in Counter(c["name"] for c in clusters.values()).items() if k > 1}
    inventories = []
    for cluster_id in sorted(
        {s["cluster_id"] for s in chosen},
        key=lambda i: (clusters[i]["vcenter_id"], clusters[i]["name"]),
    ):
        cluster = clusters[cluster_id]
        name = cluster["name"]
        if name in repeated:
            name = f"{name} (vCenter {cluster['vcenter_id']})"
        # As vCenter's capacity answer: the hosts beyond min_hosts_online may go down.
        spare = size[cluster_id] - policy.min_hosts_online
        if spare < 1:
            notes.append(
                f"cluster {name}: {size[cluster_id]} hosts and min_hosts_online "
                f"{policy.min_hosts_online} leave none to take down; the campaign will wait"
            )
        members = sorted((s for s in chosen if s["cluster_id"] == cluster_id), key=_host_key)
        site = datacenters.get(members[0]["datacenter_id"], {})
        gating = windows_for(
            windows,
            datacenter=site.get("name", ""),
            site_timezone=site.get("timezone"),
            cluster=cluster["name"],
        )
        if windows and not gating:
            unresolved.append(no_window_applies(site.get("name", ""), cluster["name"]))
            continue
        inventories.append(
            ClusterInventory(
                name=name,
                max_concurrent=max(1, min(policy.max_concurrent_per_cluster, spare)),
                hosts=[_host(s) for s in members],
                windows=parse_windows(gating),
                site_timezone=site.get("timezone"),
            )
        )
    if not inventories:
        raise CliError("no targeted cluster is gated by a window: " + "; ".join(unresolved))
    request = PlanRequest(
        clusters=inventories, target=target, global_max_concurrent=policy.global_max_concurrent
    )
    return request, unresolved, notes


def _scoped(stored: dict[str, Any], datacenters: dict[int, dict[str, Any]]) -> Window:
    site = datacenters.get(stored["datacenter_id"])
    return in_datacenter(_WINDOW.validate_python(stored["window"]), site and site["name"])


_WINDOW: TypeAdapter[Window] = TypeAdapter(Window)


def _select(
    wanted: Targets, clusters: dict[int, dict[str, Any]], servers: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Servers in a cluster matching any target (union), and the targets matching none."""
    cluster_of = {s["id"]: clusters[s["cluster_id"]]["name"] for s in servers}
    chosen = [
        s
        for s in servers
        if cluster_of[s["id"]] in wanted.clusters
        or s["esxi_host"] in wanted.hosts
        or s["service_tag"] in wanted.service_tags
    ]
    known = {
        "clusters": set(cluster_of.values()),
        "hosts": {s["esxi_host"] for s in servers},
        "service_tags": {s["service_tag"] for s in servers},
    }
    unresolved = [
        *(
            f"cluster {c}: no servers in a cluster of that name"
            for c in wanted.clusters
            if c not in known["clusters"]
        ),
        *(
            f"host {h}: no server with that ESXi host name in a cluster"
            for h in wanted.hosts
            if h not in known["hosts"]
        ),
        *(
            f"service tag {t}: no server with that tag in a cluster"
            for t in wanted.service_tags
            if t not in known["service_tags"]
        ),
    ]
    return chosen, unresolved


def _host_key(server: dict[str, Any]) -> tuple[str, str]:
    return (server["esxi_host"] or "", server["service_tag"])


def _host(server: dict[str, Any]) -> HostInventory:
    return HostInventory(
        name=server["esxi_host"] or server["service_tag"],
        service_tag=server["service_tag"],
        model=server["model"] or "",
        components=[
            InstalledComponent(
                component_id=item["component_id"], version=item["version"], name=item["name"]
            )
            for item in server["firmware_inventory"] or []
        ],
    )


# --- status ------------------------------------------------------------------------------


class StatusReader:
    """The campaign record and its per-host results; server tags cached across refreshes."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.tags: dict[int, str] = {}

    def read(self, campaign_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        detail = self.api.call("GET", f"/campaigns/{campaign_id}")
        hosts = self.api.every(f"/campaigns/{campaign_id}/hosts")
        return detail, [{**row, "service_tag": self._tag(row["server_id"])} for row in hosts]

    def _tag(self, server_id: int) -> str:
        if server_id not in self.tags:
            try:
                self.tags[server_id] = self.api.call("GET", f"/servers/{server_id}")["service_tag"]
            except CliError:
                self.tags[server_id] = f"server {server_id}"
        return self.tags[server_id]


def _when(value: str | None) -> str:
    if value is None:
        return "-"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_status(detail: dict[str, Any], hosts: list[dict[str, Any]]) -> str:
    """A readable summary: the campaign's own status, any rollout that cannot progress,
    what the workflow says, then every host result."""
    lines = [
        f"campaign {detail['id']} {detail['name']!r}: "
        + status_text(detail["status"], detail["status_reason"]),
        *(problem_line(RolloutProblem.model_validate(p)) for p in detail.get("problems") or []),
        f"  created by {detail['created_by']} at {_when(detail['created_at'])}"
        f", started {_when(detail['started_at'])}"
        + (f", ended {_when(detail['finished_at'])}" if detail["finished_at"] else ""),
    ]
    if detail["abort_reason"]:
        lines.append(f"  abort reason: {detail['abort_reason']}")
    live = detail.get("live")
    if live is not None:
        lines.append(
            f"  temporal workflow {detail['workflow_id']}: {live['temporal_status'] or 'unknown'}"
        )
        if live["available"]:
            lines.extend(_live_lines(live["status"]))
        elif live["detail"]:
            lines.append(f"  live status unavailable: {live['detail']}")
    summary = _tally(row["status"] for row in hosts)
    lines.append(f"hosts finished: {len(hosts)}" + (f" ({summary})" if summary else ""))
    width = max((len(row["service_tag"]) for row in hosts), default=0)
    for row in hosts:
        step = f" at {row['step']}" if row["step"] else ""
        lines.append(
            f"  {row['service_tag']:<{width}}  {row['status']:<11} {_when(row['started_at'])}"
            f" -> {_when(row['finished_at'])}{step}  {row['detail'] or ''}".rstrip()
        )
        lines.extend(f"    {line}" for line in component_lines(row.get("components")))
    return "\n".join(lines)


def component_lines(components: list[dict[str, Any]] | None) -> list[str]:
    """``159 2.10.0 -> 2.11.2 updated`` per component (none for rows of older releases)."""
    return [ComponentOutcome.model_validate(c).describe() for c in components or []]


def _tally(states: Iterable[str]) -> str:
    """ "2 held, 10 updated": how many of each, by name."""
    return ", ".join(f"{n} {state}" for state, n in sorted(Counter(states).items()))


def problem_line(problem: RolloutProblem) -> str:
    return (
        f"PROBLEM: cluster {problem.cluster} cannot progress "
        f"(workflow {problem.workflow_id}): {problem.detail}"
    )


def _live_lines(status: dict[str, Any]) -> list[str]:
    """The running workflow's `status` query, or the closed one's result."""
    try:
        live = CampaignStatus.model_validate(status)
    except ValidationError:
        return _result_lines(status)
    lines = [f"  stop reason: {live.stop_reason}"] if live.stop_reason else []
    if live.waiting_reason:
        approved = f" (approved by {', '.join(live.approved_by)})" if live.approved_by else ""
        lines.append(f"  {live.waiting_reason}{approved}")
    for gate in live.cluster_approvals:
        who = f", approved by {', '.join(gate.approved_by)}" if gate.approved_by else ""
        why = f": {gate.reason}" if gate.reason else ""
        lines.append(
            f"  approval of cluster {gate.cluster}: {gate.state} "
            f"({len(gate.approved_by)} of {gate.required}{who}){why}"
        )
    lines.append(f"  clusters: {', '.join(live.clusters) or '-'}")
    lines.append(f"  hosts in flight: {', '.join(live.hosts_in_flight) or '-'}")
    lines.extend(f"  unresolved target: {item}" for item in live.unresolved)
    return lines


def _result_lines(status: dict[str, Any]) -> list[str]:
    try:
        result = CampaignResult.model_validate(status)
    except ValidationError:  # another workflow version: show what it says
        return ["  live: " + ", ".join(f"{k}={v}" for k, v in sorted(status.items()))]
    lines = []
    for cluster in result.clusters:
        done = _tally(outcome.status.value for outcome in cluster.outcomes) or "no host finished"
        lines.append(f"  cluster {cluster.cluster}: {done}")
        if cluster.not_started:
            lines.append(f"    not started: {', '.join(cluster.not_started)}")
        if cluster.stopped_reason:
            lines.append(f"    stopped: {cluster.stopped_reason}")
    lines.extend(f"  unresolved target: {item}" for item in result.unresolved)
    return lines
