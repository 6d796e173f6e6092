"""`idrac-orch redfish ...`: inventory, update, job queue, reboot and rollback of one BMC.

Credentials come from --username/--password or IDRAC_ORCH_REDFISH_USERNAME/PASSWORD and
are never printed. Exit codes: 0 done, 1 Redfish error (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, SecretStr, ValidationError

from cli.params import https_url
from common.logging import configure_logging
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import RedfishError, UnsupportedError
from integrations.redfish.flows import rollback_firmware, update_firmware
from integrations.redfish.inventory import target_uris
from integrations.redfish.models import (
    ClientOptions,
    Credentials,
    FirmwareInventory,
    JobInfo,
    SystemIdentity,
    UpdateOutcome,
)

app = typer.Typer(help="Talk Redfish to one Dell iDRAC (or generic BMC).", no_args_is_help=True)
T = TypeVar("T")


class ApplyTime(StrEnum):
    IMMEDIATE = "Immediate"
    ON_RESET = "OnReset"


class AuthMode(StrEnum):
    SESSION = "session"
    BASIC = "basic"


Url = Annotated[
    str, typer.Argument(help="BMC base URL, e.g. https://127.20.0.1:8443", callback=https_url)
]
Username = Annotated[
    str,
    typer.Option(envvar="IDRAC_ORCH_REDFISH_USERNAME", help="BMC user.", show_default=False),
]
Password = Annotated[
    str,
    typer.Option(
        envvar="IDRAC_ORCH_REDFISH_PASSWORD",
        help="BMC password (prefer the environment variable).",
        show_default=False,
    ),
]
CaBundle = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="PEM CA bundle that signed the BMC cert."),
]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do NOT verify the BMC's TLS cert.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PollInterval = Annotated[float, typer.Option(help="Seconds between status polls.", min=0.01)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log requests to stderr.")]
Auth = Annotated[
    AuthMode,
    typer.Option(
        help="session: X-Auth-Token login (HTTP Basic anyway if the BMC has no "
        "SessionService); basic: HTTP Basic on every request."
    ),
]


class Connection(BaseModel):
    url: str
    credentials: Credentials
    options: ClientOptions
    as_json: bool = False


def _connection(
    url: str,
    username: str,
    password: str,
    ca_bundle: Path | None,
    insecure: bool,
    as_json: bool,
    verbose: bool,
    auth: AuthMode,
    **waits: float,
) -> Connection:
    configure_logging("INFO" if verbose else "WARNING", "console")
    if not url.startswith("https://"):
        raise typer.BadParameter(f"URL must start with https:// (got {url!r})", param_hint="URL")
    try:
        return Connection(
            url=url,
            credentials=Credentials(username=username, password=SecretStr(password)),
            options=ClientOptions(ca_bundle=ca_bundle, insecure=insecure, auth=auth.value, **waits),
            as_json=as_json,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise typer.BadParameter(problems) from None


def _run(conn: Connection, work: Callable[[RedfishClient], Awaitable[T]]) -> T:
    """Run WORK with a client; any Redfish failure becomes one line and exit code 1."""

    async def main() -> T:
        async with RedfishClient(conn.url, conn.credentials, conn.options) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except RedfishError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _emit(conn: Connection, document: Any, text: str) -> None:
    typer.echo(json.dumps(document, indent=2) if conn.as_json else text)


def _progress(conn: Connection) -> Callable[[JobInfo], None] | None:
    if conn.as_json:
        return None
    return lambda info: typer.echo(f"  job {info.describe()}")


@app.command("inventory")
def inventory_command(
    url: Url,
    username: Username,
    password: Password,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    auth: Auth = AuthMode.SESSION,
) -> None:
    """Identity, health and firmware inventory of one BMC (identity alone if the BMC
    reports no firmware versions)."""
    conn = _connection(url, username, password, ca_bundle, insecure, as_json, verbose, auth)

    async def work(client: RedfishClient) -> tuple[SystemIdentity, FirmwareInventory | str]:
        ident = await client.identity()
        try:
            return ident, await client.firmware_inventory()
        except UnsupportedError as exc:
            return ident, exc.reason

    ident, firmware = _run(conn, work)
    result = {
        "identity": ident.model_dump(mode="json"),
        "firmware": (
            [c.model_dump(mode="json") for c in firmware.components]
            if isinstance(firmware, FirmwareInventory)
            else None
        ),
    }
    lines = [
        f"{ident.vendor} {ident.model}  service tag {ident.service_tag}  "
        f"power {ident.power_state or '-'}  health {ident.health or '-'}/"
        f"{ident.health_rollup or '-'}",
        f"BIOS {ident.bios_version or '-'}  BMC {ident.bmc_version or '-'}"
        + (f"  SystemID 0x{ident.dell_system_id:04X}" if ident.dell_system_id else ""),
    ]
    if isinstance(firmware, str):
        result["firmware_unavailable"] = firmware
        lines.append(f"no firmware inventory: {firmware}")
    else:
        lines += [
            f"  {c.kind.value:<9} {c.name:<42} {c.version:<14} {c.component_id or '-':<7} "
            f"{c.fqdd or ''}"
            for c in [*firmware.installed(), *firmware.previous()]
        ]
    _emit(conn, result, "\n".join(lines))


def _outcome_text(outcome: UpdateOutcome) -> str:
    job = outcome.job
    if outcome.pending_reboot:
        return f"job {job.job_id} {job.status.value}: reboot the host to apply (or use --reboot)"
    changes = ", ".join(f"{c.name} {c.before} -> {c.after}" for c in outcome.changes)
    rebooted = " after a forced reboot" if outcome.forced_reboot else ""
    rebooted = rebooted or (" after a reboot" if outcome.rebooted else "")
    return f"job {job.job_id} completed{rebooted}; verified: {changes}"


@app.command("update")
def update_command(
    url: Url,
    username: Username,
    password: Password,
    image_uri: Annotated[
        str | None, typer.Option(help="HTTP(S) URI the BMC downloads the image from.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Local image, pushed by multipart."),
    ] = None,
    apply_time: Annotated[ApplyTime, typer.Option(help="When the BMC applies it.")] = (
        ApplyTime.ON_RESET
    ),
    reboot: Annotated[bool, typer.Option(help="Reboot the host if the update needs it.")] = False,
    wait: Annotated[bool, typer.Option(help="Follow the job and verify the result.")] = False,
    expect_version: Annotated[
        str | None, typer.Option(help="Fail unless this version is installed afterwards.")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            help="Component the image is for (id, FQDD or name; repeatable), sent as "
            "SimpleUpdate Targets: some BMCs require them."
        ),
    ] = None,
    poll_interval: PollInterval = 10.0,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    auth: Auth = AuthMode.SESSION,
) -> None:
    """Apply one firmware image; with --wait, follow it and verify by inventory diff."""
    if (image_uri is None) == (file is None):
        raise typer.BadParameter("give exactly one of --image-uri or --file")
    if (reboot or expect_version) and not wait:
        raise typer.BadParameter("--reboot and --expect-version need --wait")
    conn = _connection(
        url, username, password, ca_bundle, insecure, as_json, verbose, auth,
        poll_interval_s=poll_interval,
    )  # fmt: skip

    if not wait:

        async def submit(client: RedfishClient) -> dict[str, Any]:
            uris = (
                target_uris(await client.firmware_inventory(), target, client.host)
                if target
                else None
            )
            if file is not None:
                ref = await client.push_update(file, apply_time=apply_time.value, targets=uris)
            else:
                assert image_uri is not None
                ref = await client.simple_update(
                    image_uri, apply_time=apply_time.value, targets=uris
                )
            return ref.model_dump()

        ref = _run(conn, submit)
        _emit(conn, ref, f"job {ref['job_id']} submitted ({ref['location']})")
        return

    async def follow(client: RedfishClient) -> UpdateOutcome:
        return await update_firmware(
            client,
            image_uri=image_uri,
            file=file,
            apply_time=apply_time.value,
            reboot=reboot,
            expected_version=expect_version,
            targets=target,
            on_progress=_progress(conn),
        )

    outcome = _run(conn, follow)
    _emit(conn, outcome.model_dump(mode="json"), _outcome_text(outcome))


@app.command("jobs")
def jobs_command(
    url: Url,
    username: Username,
    password: Password,
    clear: Annotated[bool, typer.Option(help="Delete all jobs that are not running.")] = False,
    force: Annotated[
        bool, typer.Option(help="With --clear: delete running jobs too (restarts LC).")
    ] = False,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    auth: Auth = AuthMode.SESSION,
) -> None:
    """List the job queue; --clear empties it."""
    if force and not clear:
        raise typer.BadParameter("--force needs --clear")
    conn = _connection(url, username, password, ca_bundle, insecure, as_json, verbose, auth)

    async def work(client: RedfishClient) -> list[JobInfo]:
        if clear:
            await client.clear_job_queue(force=force)
            if force:
                await client.wait_until_ready(expect_transition=True)
        return await client.list_jobs()

    jobs = _run(conn, work)
    text = "\n".join(j.describe() for j in jobs) or "job queue is empty"
    _emit(conn, [j.model_dump(mode="json") for j in jobs], text)


@app.command("reboot")
def reboot_command(
    url: Url,
    username: Username,
    password: Password,
    reset_type: Annotated[str, typer.Option(help="First ResetType to send.")] = "GracefulRestart",
    grace: Annotated[
        float, typer.Option(help="Seconds to wait for a graceful restart before forcing.", min=0)
    ] = 300.0,
    poll_interval: PollInterval = 10.0,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    auth: Auth = AuthMode.SESSION,
) -> None:
    """Restart the host (forcing after the grace period) and wait until it is back."""
    conn = _connection(
        url, username, password, ca_bundle, insecure, as_json, verbose, auth,
        reboot_grace_s=grace, poll_interval_s=poll_interval,
    )  # fmt: skip

    async def work(client: RedfishClient) -> bool:
        return await client.power.reboot(reset_type)

    forced = _run(conn, work)
    how = "forced after the graceful restart was ignored" if forced else reset_type
    _emit(conn, {"rebooted": True, "forced": forced}, f"host back up ({how})")


@app.command("rollback")
def rollback_command(
    url: Url,
    username: Username,
    password: Password,
    component: Annotated[
        str, typer.Option(help="ComponentID, FQDD or name (e.g. BIOS, idrac, 159).")
    ],
    reboot: Annotated[bool, typer.Option(help="Reboot the host if the rollback needs it.")] = (
        False
    ),
    poll_interval: PollInterval = 10.0,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    auth: Auth = AuthMode.SESSION,
) -> None:
    """Install a component's Previous- image and verify it is running afterwards."""
    conn = _connection(
        url, username, password, ca_bundle, insecure, as_json, verbose, auth,
        poll_interval_s=poll_interval,
    )  # fmt: skip

    async def work(client: RedfishClient) -> UpdateOutcome:
        return await rollback_firmware(
            client, component, reboot=reboot, on_progress=_progress(conn)
        )

    outcome = _run(conn, work)
    _emit(conn, outcome.model_dump(mode="json"), _outcome_text(outcome))
