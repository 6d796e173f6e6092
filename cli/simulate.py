"""`idrac-orch simulate ...`: run the simulators that tests and the demo use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from common.signals import stop_event
from simulators.fleet import FleetFileError, load_fleet
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
