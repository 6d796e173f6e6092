"""`idrac-orch simulate ...`: run the simulators that tests and the demo use."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from common.signals import stop_event
from simulators.fleet import FleetFileError, load_fleet
from simulators.idrac.simulator import IdracSimulator, generated_hosts
from simulators.vcsim.harness import VcsimError, VcsimProcess

app = typer.Typer(help="Run simulated vCenter and iDRACs on loopback.", no_args_is_help=True)


@app.command("vcenter")
def vcenter(
    fleet: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Fleet YAML file.")],
    host: Annotated[str, typer.Option(help="Loopback address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTPS port.")] = 8989,
    control_port: Annotated[
        int, typer.Option(help="Port of the loopback control endpoint (0: any free port).")
    ] = 0,
) -> None:
    """Build (if needed) and run the vCenter simulator for FLEET until Ctrl-C."""
    stopping = stop_event()
    try:
        spec = load_fleet(fleet)
        process = VcsimProcess(spec, host=host, port=port, control_port=control_port).start()
    except (FleetFileError, VcsimError) as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"vCenter simulator: {process.url} (user {spec.vcenter.username})")
    typer.echo(f"control endpoint: {process.control_url} (POST /hosts/TAG/connection)")
    try:
        stopping.wait()
    finally:
        process.stop()


@app.command("idrac")
def idrac(
    count: Annotated[int, typer.Option(min=1, max=60000, help="iDRACs to generate.")] = 4,
    base_address: Annotated[str, typer.Option(help="First loopback address.")] = "127.20.0.1",
    port: Annotated[int, typer.Option(help="HTTPS port, the same on every address.")] = 8443,
    fleet: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Fleet YAML (replaces --count)."),
    ] = None,
    time_scale: Annotated[
        float, typer.Option(min=0.0001, help="0.01: a 10-minute update takes 6 s.")
    ] = 1.0,
    latency_ms: Annotated[float, typer.Option(min=0, help="Added delay per request.")] = 0.0,
    control_port: Annotated[
        int, typer.Option(help="Port of the loopback control endpoint (0: any free port).")
    ] = 0,
    vcenter_control: Annotated[
        str | None, typer.Option(help="vCenter simulator control URL told about host reboots.")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Where ca.pem is written.")
    ] = None,
) -> None:
    """Run simulated Dell iDRAC9s (HTTPS Redfish, one loopback address each) until Ctrl-C."""
    try:
        hosts = [h for _, _, h in load_fleet(fleet).hosts()] if fleet else generated_hosts(count)
        simulator = IdracSimulator(
            hosts,
            base_address=base_address,
            port=port,
            time_scale=time_scale,
            latency_ms=latency_ms,
            vcenter_control=vcenter_control,
            control_port=control_port,
            state_dir=state_dir,
        )
    except (FleetFileError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None

    async def serve() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await simulator.start()
        except OSError as exc:
            await simulator.stop()
            typer.echo(f"error: cannot listen: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(
            f"iDRAC simulator: {len(simulator.hosts)} iDRACs on port {simulator.port}, "
            f"time scale {time_scale:g}"
        )
        typer.echo(f"CA certificate: {simulator.ca_path}")
        typer.echo(f"control endpoint: {simulator.control_url}")
        for tag, url in simulator.endpoints():
            user = simulator.hosts[tag].spec.idrac_username
            typer.echo(f"{tag} {url} (user {user})")
        try:
            await stopping.wait()
        finally:
            await simulator.stop()

    asyncio.run(serve())
