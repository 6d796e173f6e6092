"""The `idrac-orch` command."""

from __future__ import annotations

import typer

from cli import audit, db, demo, dev, discover, inventory, onboard, secrets, services, simulate
from cli import baseline as baseline_cli
from cli import campaign as campaign_cli
from cli import catalog as catalog_cli
from cli import notify as notify_cli
from cli import redfish as redfish_cli
from cli import vcenter as vcenter_cli

app = typer.Typer(
    help="iDRAC Updater Orchestrator: rolling Dell firmware campaigns on VMware clusters.",
    no_args_is_help=True,
)
app.command("dev")(dev.run_dev)
app.command("demo")(demo.demo)
app.command("worker")(services.worker)
app.command("api")(services.api)
app.command("selftest")(services.selftest)
app.command("discover")(discover.discover)
app.add_typer(db.app, name="db")
app.add_typer(simulate.app, name="simulate")
app.add_typer(redfish_cli.app, name="redfish")
app.add_typer(secrets.app, name="secrets")
app.add_typer(audit.app, name="audit")
app.add_typer(vcenter_cli.app, name="vcenter")
app.add_typer(campaign_cli.app, name="campaign")
app.add_typer(onboard.app, name="onboard")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(inventory.app, name="inventory")
app.add_typer(baseline_cli.app, name="baseline")
app.add_typer(notify_cli.app, name="notify")

if __name__ == "__main__":
    app()
