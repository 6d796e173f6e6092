"""`idrac-orch demo`: the firmware lifecycle and a rolling BIOS campaign over a simulated
datacenter, end to end.

start the simulated vCenter and iDRACs from one fleet file
start the embedded stack (Temporal + Web UI, worker, API)
enter the datacenter into the API
import Dell's catalog from a loopback mirror, show the fleet's compliance against a
baseline, remediate one cluster to it and show the compliance again (cli/demo_baseline.py)
upload the BIOS package, launch the campaign through the API and show its progress live
check the outcome: the faulty host failed with nothing changed and back in service, the
compliant one skipped, the rest updated, and the campaign finished with failures (its own
result, not Temporal's "completed")
run the failed host once more with an update that does not take and on_failure: hold: it
is held, and its host.held reaches a local webhook receiver and a local SMTP server
(loopback only; cli/demo_notify.py)
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from api.campaign_status import status_text
from api.security import hash_password
from cli.demo_baseline import run_lifecycle
from cli.demo_follow import report_outcomes
from cli.demo_inventory import POLICY, Package, seed_inventory, upload_package
from cli.demo_notify import Receivers, add_channels, local_receivers, run_held_host
from cli.dev import Supervisor, api_url, stack_urls, start_stack, wait_for_stop_or_crash
from common.settings import Settings
from common.signals import stop_event
from domain.runbook import CampaignState
from simulators.fleet import Fleet, load_fleet
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator
from simulators.vcsim.harness import VcsimProcess

BIOS = Package(component_id="159", version="2.19.1", file_name="BIOS_8MRPC_WN64_2.19.1.EXE")
ADMIN = "demo-admin"
# Faults that fail the job before anything is flashed: a failure with the host back in
# service. Any other fault changes firmware first: reverted, or held for a human.
NOTHING_FLASHED = ("job_fails", "download_fails")


def demo(
    fleet_file: Annotated[
        Path, typer.Option("--fleet", exists=True, dir_okay=False, help="Fleet YAML file.")
    ] = Path("examples/fleet-demo.yaml"),
    time_scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 0.02,
    keep: Annotated[bool, typer.Option(help="Keep everything running until Ctrl-C.")] = False,
    vcenter_port: Annotated[int, typer.Option(help="HTTPS port of the simulated vCenter.")] = 8989,
    idrac_port: Annotated[int, typer.Option(help="HTTPS port of the simulated iDRACs.")] = 8443,
) -> None:
    """Run the demo campaign; exit 0 when it ends as expected."""
    fleet = load_fleet(fleet_file)
    data_dir = Path(".idrac-orch/demo")
    shutil.rmtree(data_dir, ignore_errors=True)  # every demo starts from an empty inventory
    stopping = stop_event()
    with (
        VcsimProcess(fleet, port=vcenter_port) as vcsim,
        local_receivers(data_dir / "notify") as receivers,
    ):
        simulator = IdracSimulator.from_fleet(
            fleet,
            port=8443,
            time_scale=time_scale,
            vcenter_control=vcsim.control_url,
            state_dir=data_dir / "idrac",
        )
        with SimulatorThread(simulator):
            password = secrets.token_urlsafe(16)
            settings = _stack_settings(data_dir, simulator, password, receivers)
            supervisor = Supervisor(settings)
            try:
                start_stack(supervisor)
                typer.echo("\n".join(["The embedded stack is up:", *stack_urls(supervisor)]))
                typer.echo(f"  vCenter (sim)    {vcsim.url}")
                typer.echo(f"  iDRACs (sim)     {len(fleet.hosts())} on port {simulator.port}")
                typer.echo(
                    f"  console login    {ADMIN}, password in {_password_file(data_dir, password)}"
                )
                held = HeldHostDemo(receivers, simulator.control_url)
                ok = _run_demo(settings, password, fleet, vcsim, data_dir, held)
                if keep:
                    typer.echo("Everything stays up for you to explore; Ctrl-C to stop.")
                    wait_for_stop_or_crash(supervisor, stopping)
            except RuntimeError as exc:
                typer.echo(f"error: {exc}", err=True)
                ok = False
            finally:
                supervisor.stop()
    raise typer.Exit(0 if ok else 1)


def _password_file(data_dir: Path, password: str) -> Path:
    """The demo admin's one-time password, for the console: in an owner-only file, never
    on the terminal (which may be recorded or shared)."""
    path = data_dir / "console-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return path.resolve()


def _stack_settings(
    data_dir: Path, simulator: IdracSimulator, password: str, receivers: Receivers
) -> Settings:
    """The worker reaches the simulators like real hardware, through its settings."""
    env = {
        "IDRAC_ORCH_DATA_DIR": str(data_dir.resolve()),
        "IDRAC_ORCH_DATABASE_URL": f"sqlite:///{(data_dir / 'orch.db').resolve()}",
        "IDRAC_ORCH_SECRET_KEY": secrets.token_urlsafe(32),
        "IDRAC_ORCH_IDRAC_PORT": str(simulator.port),
        "IDRAC_ORCH_IDRAC_CA_BUNDLE": str(simulator.ca_path),
        "IDRAC_ORCH_IDRAC_POLL_INTERVAL_S": "0.2",
        "IDRAC_ORCH_VCENTER_INSECURE": "true",  # vcsim's built-in certificate: explicit opt-in
        "IDRAC_ORCH_VCENTER_POLL_INTERVAL_S": "0.5",
        "IDRAC_ORCH_ACTIVITY_HEARTBEAT_TIMEOUT_S": "15",
        "IDRAC_ORCH_BREAKGLASS_USERNAME": ADMIN,
        "IDRAC_ORCH_BREAKGLASS_PASSWORD_HASH": hash_password(password),
        "IDRAC_ORCH_NOTIFY_CA_BUNDLE": str(receivers.ca_bundle.resolve()),  # the local SMTP's
    }
    os.environ.update(env)  # the supervisor's children inherit them
    return Settings()


@dataclass(frozen=True)
class HeldHostDemo:
    """Where the held host's notifications go, and the simulators' control API."""

    receivers: Receivers
    control_url: str


def _run_demo(
    settings: Settings,
    password: str,
    fleet: Fleet,
    vcsim: VcsimProcess,
    data_dir: Path,
    held: HeldHostDemo,
) -> bool:
    """The firmware lifecycle first (the fleet as shipped against Dell's next release),
    then the BIOS campaign over every cluster, then a held host's notifications."""
    with httpx.Client(base_url=api_url(settings), timeout=60) as api:
        login = api.post("/auth/login", json={"username": ADMIN, "password": password})
        login.raise_for_status()
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        seed_inventory(api, fleet, vcsim.url)
        add_channels(api, held.receivers)
        remediated = run_lifecycle(api, fleet, data_dir)
        campaigned, outcomes, spec = _run_campaign(api, settings, fleet)
        failed = sorted(tag for tag, status in outcomes.items() if status == "failed")
        if not failed:  # another fleet file: no host left as it was to hold
            return campaigned and remediated
        notified = run_held_host(api, held.receivers, held.control_url, failed[0], spec)
        return campaigned and remediated and notified


def _run_campaign(
    api: httpx.Client, settings: Settings, fleet: Fleet
) -> tuple[bool, dict[str, str], dict[str, Any]]:
    """The BIOS campaign: (as expected, each host's status, its spec)."""
    package_id = upload_package(api, BIOS)
    spec: dict[str, Any] = {
        "targets": {"clusters": [c.name for _, c in fleet.clusters()]},
        "firmware": [
            {
                "component_id": BIOS.component_id,
                "version": BIOS.version,
                "package_id": package_id,
            }
        ],
        "policy": POLICY,
    }
    created = api.post("/campaigns", json={"name": "demo: BIOS 2.19.1", "spec": spec})
    created.raise_for_status()
    campaign_id = created.json()["id"]
    api.post(f"/campaigns/{campaign_id}/start").raise_for_status()
    typer.echo(f"Campaign {campaign_id} started: BIOS {BIOS.version} on {len(fleet.hosts())} hosts")
    typer.echo(f"  watch it live: {api_url(settings)}/ui/campaigns/{campaign_id}")
    outcomes, ended = report_outcomes(api, campaign_id)
    return _verdict(outcomes, ended, fleet), outcomes, spec


def _verdict(got: dict[str, str], ended: str, fleet: Fleet) -> bool:
    """Every host ended as the fleet file says it should, and the campaign with them:
    finished with failures when a faulty host is in the fleet."""
    wrong = []
    expected = CampaignState.COMPLETED
    for _, _, host in fleet.hosts():
        if host.faults != type(host.faults)():
            nothing_flashed = any(getattr(host.faults, fault) for fault in NOTHING_FLASHED)
            allowed = {"failed"} if nothing_flashed else {"rolled_back", "held"}
            expected = CampaignState.FINISHED_WITH_FAILURES
        elif host.firmware.get("bios") == BIOS.version:
            allowed = {"compliant"}
        else:
            allowed = {"updated"}
        if got.get(host.service_tag) not in allowed:
            wrong.append(f"{host.service_tag}: {got.get(host.service_tag)}, expected {allowed}")
    if ended != expected:
        wrong.append(f"campaign: {status_text(ended)}, expected {status_text(expected)}")
    typer.echo("Result: " + ("as expected" if not wrong else "UNEXPECTED: " + "; ".join(wrong)))
    return not wrong
