"""Read every managed iDRAC once: health and installed firmware, under a concurrency cap and
a per-host time limit, with the scanner's per-slot HTTP clients and basic auth (no session
to leak). Five requests per host, one after the other on one connection: the service root,
the system ($expand), the firmware inventory ($expand: the firmware takes two of the five),
Thermal and Power (and the manager, where a system lacks Oem.Dell.DellSystem: a Dell?).
The system names the machine (service tag, SystemID): where another
machine answers than the server expected, nothing more is read from it and the reading
says so. An iDRAC that does not answer becomes a reading that says why; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from domain.inventory import HostReading, mismatch, system_id_text
from integrations.discovery.inspect import installed_firmware
from integrations.discovery.scanner import (
    ScanOptions,
    base_url,
    basic_auth_options,
    failure_reason,
    probe_clients,
)
from integrations.redfish.client import RedfishClient
from integrations.redfish.documents import dell_system_id, dig, service_tag
from integrations.redfish.errors import RedfishError
from integrations.redfish.health import read_health
from integrations.redfish.models import Credentials


@dataclass(frozen=True)
class SweepTarget:
    server_id: int
    address: str
    credentials: Credentials | None  # None: no credential profile applies
    service_tag: str | None = None  # the machine expected at the address


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
            # Dell as identity() decides (onboarding stored the tag that way): DellSystem, or
            # failing it (a firmware that leaves it out) the manager's DellLCService link.
            dell = isinstance(dig(system, "Oem", "Dell", "DellSystem"), dict)
            dell = dell or await client.is_dell()
            found = service_tag(system, dell) or None
            identity = {"service_tag": found, "system_id": system_id_text(dell_system_id(system))}
            wrong = _mismatch(target.service_tag, found, system)
            if wrong is not None:
                return HostReading(
                    server_id=target.server_id,
                    reachable=False,
                    error=wrong,
                    tag_mismatch=True,
                    **identity,
                )
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
    return HostReading(
        server_id=target.server_id,
        reachable=True,
        health=health,
        firmware=firmware,
        **identity,
    )


def _mismatch(expected: str | None, found: str | None, system: dict[str, Any]) -> str | None:
    """Another machine answers only if neither its SKU (a Dell's service tag) nor its
    SerialNumber (another vendor's identity; a Dell's board serial) is the expected tag."""
    for named in (system.get("SKU"), system.get("SerialNumber")):
        if named and mismatch(expected, str(named)) is None:
            return None
    return mismatch(expected, found)


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
