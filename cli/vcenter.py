"""`idrac-orch vcenter ...`: read inventory and capacity, enter and exit maintenance
(straight to vCenter); sync a registered vCenter (through the API, cli/vcenter_sync.py).

Exit codes: 0 done (or already in the asked state), 1 vCenter error, 2 bad usage,
3 maintenance refused by preflight (nothing changed), 4 maintenance timed out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, SecretStr

from cli import vcenter_sync
from cli.params import https_url
from common.logging import configure_logging
from common.settings import get_settings
from domain.capacity import CapacityAnswer, CapacityPolicy
from integrations.vcenter import (
    MaintenanceBlockedError,
    MaintenanceOptions,
    MaintenanceTimeoutError,
    VCenterClient,
    VCenterError,
    VCenterSettings,
    cluster_capacity,
    enter_maintenance,
    exit_maintenance,
    read_inventory,
)
from integrations.vcenter.maintenance import MaintenanceResult
from integrations.vcenter.models import Inventory
from integrations.vcenter.preflight import EvacuationPolicy

app = typer.Typer(help="Inventory, capacity and maintenance mode on vCenter.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Enter or leave maintenance mode.", no_args_is_help=True)
app.add_typer(maintenance_app, name="maintenance")
app.command("sync")(vcenter_sync.sync)
app.command("syncs")(vcenter_sync.syncs)

EXIT_BLOCKED = 3
EXIT_TIMEOUT = 4

Url = Annotated[
    str, typer.Argument(help="vCenter, e.g. https://vc.example.com/sdk", callback=https_url)
]
Username = Annotated[
    str,
    typer.Option(envvar="IDRAC_ORCH_VCENTER_USERNAME", help="vCenter user.", show_default=False),
]
Password = Annotated[
    str,
    typer.Option(
        envvar="IDRAC_ORCH_VCENTER_PASSWORD",
        help="vCenter password (prefer the environment variable).",
        show_default=False,
    ),
]
CaBundle = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="PEM CA bundle that signed vCenter's cert."),
]
Insecure = Annotated[
    bool, typer.Option("--insecure", help="Do NOT verify vCenter's TLS certificate.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Host = Annotated[str, typer.Option("--host", help="ESXi host name or Dell service tag.")]


def _settings(
    url: str, username: str, password: str, ca_bundle: Path | None, insecure: bool
) -> VCenterSettings:
    try:
        return VCenterSettings(
            url=url,
            username=username,
            password=SecretStr(password),
            ca_bundle=ca_bundle,
            insecure=insecure,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def _session(settings: VCenterSettings) -> Iterator[VCenterClient]:
    """A connected client; vCenter errors become a one-line message and exit code 1."""
    common = get_settings()
    configure_logging(common.log_level, common.log_format)  # to stderr: stdout is the answer
    try:
        with VCenterClient(settings) as client:
            yield client
    except MaintenanceBlockedError as exc:
        _fail(str(exc), EXIT_BLOCKED)
    except MaintenanceTimeoutError as exc:
        _fail(str(exc), EXIT_TIMEOUT)
    except VCenterError as exc:
        _fail(str(exc), 1)


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _emit(model: BaseModel, as_json: bool, text: Callable[[Any], str]) -> None:
    typer.echo(json.dumps(model.model_dump(mode="json"), indent=2) if as_json else text(model))


@app.command("inventory")
def inventory_command(
    url: Url,
    username: Username,
    password: Password,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
) -> None:
    """Datacenters, clusters (DRS, HA), hosts (service tag, state) and their VMs."""
    with _session(_settings(url, username, password, ca_bundle, insecure)) as client:
        _emit(read_inventory(client), as_json, _inventory_text)


def _inventory_text(inventory: Inventory) -> str:
    lines: list[str] = []
    for dc in inventory.datacenters:
        lines.append(f"datacenter {dc.name}")
        for cluster in dc.clusters:
            drs = cluster.drs.automation if cluster.drs.enabled else "off"
            ha = cluster.ha.policy if cluster.ha.enabled else "off"
            lines.append(f"  cluster {cluster.name}  DRS {drs}  HA {ha}")
            for host in cluster.hosts:
                mode = " MAINTENANCE" if host.in_maintenance else ""
                lines.append(
                    f"    {host.name}  {host.service_tag or '-'}  {host.model or '-'}  "
                    f"{host.connection_state}{mode}  "
                    f"{len(host.powered_on_vms)}/{len(host.vms)} VMs on"
                )
    return "\n".join(lines)


@app.command("capacity")
def capacity_command(
    url: Url,
    cluster: Annotated[str, typer.Option(help="Cluster name.")],
    username: Username,
    password: Password,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    min_hosts_online: Annotated[int, typer.Option(min=1)] = 1,
    max_concurrent: Annotated[int, typer.Option(min=1)] = 1,
    max_utilization: Annotated[int, typer.Option(min=1, max=100, help="Percent.")] = 100,
    as_json: AsJson = False,
) -> None:
    """How many more hosts of CLUSTER may enter maintenance now, and why."""
    policy = CapacityPolicy(
        min_hosts_online=min_hosts_online,
        max_concurrent=max_concurrent,
        max_utilization_percent=max_utilization,
    )
    with _session(_settings(url, username, password, ca_bundle, insecure)) as client:
        _emit(cluster_capacity(client, cluster, policy), as_json, _capacity_text)


def _capacity_text(answer: CapacityAnswer) -> str:
    lines = [
        f"{answer.cluster}: {answer.may_enter} more host(s) may enter maintenance "
        f"({answer.hosts_available} of {answer.hosts_total} available)",
        f"limited by: {answer.reason}",
    ]
    lines += [f"  {limit.rule}: {limit.allows}  ({limit.reason})" for limit in answer.limits]
    return "\n".join(lines)


def _result_text(result: MaintenanceResult) -> str:
    state = "in maintenance" if result.in_maintenance else "out of maintenance"
    verb = "now" if result.changed else "already"
    moved = "".join(f"\n  moved {vm} -> {host}" for vm, host in result.migrated.items())
    return f"{result.host} is {verb} {state}{moved}"


@maintenance_app.command("enter")
def enter_command(
    url: Url,
    host: Host,
    username: Username,
    password: Password,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds before cancelling.")] = 3600,
    evacuation: Annotated[
        str,
        typer.Option(
            help="Where DRS is not fully automated: migrate: move the VMs ourselves, by the "
            "cluster's capacity and rules; drs: refuse."
        ),
    ] = "migrate",
    min_hosts_online: Annotated[int, typer.Option(min=1)] = 1,
    max_concurrent: Annotated[int, typer.Option(min=1)] = 1,
    as_json: AsJson = False,
) -> None:
    """Preflight, then put HOST in maintenance (blockers are named before any change)."""
    if evacuation not in ("drs", "migrate"):
        raise typer.BadParameter("--evacuation must be drs or migrate")
    policy: EvacuationPolicy = "drs" if evacuation == "drs" else "migrate"
    options = MaintenanceOptions(
        evacuation=policy,
        timeout_s=timeout,
        capacity=CapacityPolicy(min_hosts_online=min_hosts_online, max_concurrent=max_concurrent),
    )
    with _session(_settings(url, username, password, ca_bundle, insecure)) as client:
        _emit(enter_maintenance(client, host, options), as_json, _result_text)


@maintenance_app.command("exit")
def exit_command(
    url: Url,
    host: Host,
    username: Username,
    password: Password,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait.")] = 900,
    as_json: AsJson = False,
) -> None:
    """Take HOST out of maintenance."""
    with _session(_settings(url, username, password, ca_bundle, insecure)) as client:
        _emit(exit_maintenance(client, host, timeout_s=timeout), as_json, _result_text)
