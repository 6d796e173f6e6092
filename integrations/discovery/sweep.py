"""Read every managed iDRAC once: health and installed firmware, under a concurrency cap and
a per-host time limit, with the scanner's per-slot HTTP clients and basic auth (no session
to leak). Four requests per host: system, firmware inventory ($expand), Thermal, Power.
An iDRAC that does not answer becomes a reading that says why; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from domain.inventory import HostReading
from integrations.discovery.inspect import installed_firmware
from integrations.discovery.scanner import (
    ScanOptions,
    base_url,
    basic_auth_options,
    failure_reason,
    probe_clients,
)
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import RedfishError
from integrations.redfish.health import read_health
from integrations.redfish.models import Credentials


@dataclass(frozen=True)
class SweepTarget:
    server_id: int
    address: str
    credentials: Credentials | None  # None: no credential profile applies


async def read_one(
    target: SweepTarget, options: ScanOptions, http: httpx.AsyncClient
) -> HostReading:
    if target.credentials is None:
        return HostReading(server_id=target.server_id, reachable=False, error="no login applies")
    client = RedfishClient(
        base_url(target.address, options.port),
        target.credentials,
        basic_auth_options(options),
        http=http,
    )
    try:
        async with asyncio.timeout(options.address_timeout_s):
            system = await client.system()
            health = await read_health(client, system)
            firmware = installed_firmware(await client.firmware_inventory())
    except (RedfishError, TimeoutError, OSError) as exc:
        return HostReading(server_id=target.server_id, reachable=False, error=failure_reason(exc))
    except (ValueError, KeyError, TypeError) as exc:  # a document we cannot read: its host only
        return HostReading(
            server_id=target.server_id,
            reachable=False,
            error=f"unreadable answer ({type(exc).__name__})",
        )
    finally:
        await client.aclose()
    return HostReading(server_id=target.server_id, reachable=True, health=health, firmware=firmware)


async def sweep(
    targets: list[SweepTarget], options: ScanOptions, progress: Callable[[], None]
) -> list[HostReading]:
    """Every target's reading, at most ``options.concurrency`` hosts at once."""
    readings: list[HostReading] = []
    queue = iter(targets)

    async def slot() -> None:
        async with probe_clients(options) as clients:
            for target in queue:
                readings.append(await read_one(target, options, clients.verified))
                progress()

    await asyncio.gather(*(slot() for _ in range(min(options.concurrency, len(targets)))))
    return readings
