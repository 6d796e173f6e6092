"""A closer look at one enrolled iDRAC for onboarding validation.

The discovery probe first (reachable, certificate verdict, whether the login works),
then, only with a working login over a trusted certificate: identity, Lifecycle
Controller status, the job queue, the firmware inventory and the licenses, through the
Redfish client with basic auth (no session taken).
"""

from __future__ import annotations

import asyncio

from domain.discovery import CredentialStatus
from domain.inventory import system_id_text
from domain.onboarding import IdracFacts, InstalledFirmware
from integrations.discovery.scanner import (
    Login,
    ScanOptions,
    base_url,
    basic_auth_options,
    failure_reason,
    probe,
    probe_clients,
)
from integrations.redfish.client import RedfishClient
from integrations.redfish.errors import RedfishError
from integrations.redfish.models import FirmwareInventory


async def inspect(address: str, logins: list[Login], options: ScanOptions) -> IdracFacts:
    """Read what validation judges, with the first of LOGINS (most specific first) that
    opens the iDRAC."""
    async with probe_clients(options) as clients:
        endpoint = await probe(clients, address, options, lambda _address: logins)
        if endpoint is None:
            return IdracFacts(
                address=address,
                reachable=False,
                error=f"no Redfish service answered on port {options.port}",
            )
        facts = IdracFacts(
            address=address,
            reachable=True,
            tls=endpoint.tls,
            credentials=endpoint.credentials,
            credential_detail=endpoint.detail,
            credential_profile_id=endpoint.credential_profile_id,
            redfish_version=endpoint.redfish_version,
            vendor=endpoint.vendor,
            model=endpoint.model,
            service_tag=endpoint.service_tag,
            generation=endpoint.generation,
            firmware_version=endpoint.firmware_version,
        )
        if endpoint.credentials is not CredentialStatus.OK:
            return facts
        login = next(x for x in logins if x.profile_id == endpoint.credential_profile_id)
        client = RedfishClient(
            base_url(address, options.port),
            login.credentials,
            basic_auth_options(options),
            http=clients.verified,
        )
        try:
            async with asyncio.timeout(options.address_timeout_s * 4):
                return await _deeper(client, facts)
        except (RedfishError, TimeoutError) as exc:
            return facts.model_copy(update={"error": failure_reason(exc)})
        finally:
            await client.aclose()


async def _deeper(client: RedfishClient, facts: IdracFacts) -> IdracFacts:
    identity = await client.identity()
    facts = facts.model_copy(
        update={
            "dell": identity.dell_oem,
            "health": identity.health_rollup,
            "system_id": system_id_text(identity.dell_system_id),
        }
    )
    lifecycle = await client.lifecycle_status()
    facts = facts.model_copy(
        update={"lc_ready": lifecycle.ready, "lc_status": lifecycle.lc_status or lifecycle.status}
    )
    jobs = [job.describe() for job in await client.list_jobs() if not job.status.terminal]
    facts = facts.model_copy(update={"open_jobs": jobs})
    installed = installed_firmware(await client.firmware_inventory())
    facts = facts.model_copy(update={"inventory": installed})
    try:
        licenses = await client.licenses()
    except RedfishError:  # the license only ever warns: it never costs the other checks
        licenses = None
    return facts.model_copy(update={"licenses": licenses})


def installed_firmware(inventory: FirmwareInventory) -> list[InstalledFirmware]:
    """What runs, in the shape servers store it (and campaign plans compare against)."""
    return [
        InstalledFirmware(component_id=c.component_id or c.name, name=c.name, version=c.version)
        for c in inventory.installed()
    ]
