"""Identity, health, Lifecycle Controller readiness and firmware inventory."""

from __future__ import annotations

from integrations.redfish.models import ImageKind


async def test_identity_reports_dell_fields(host, make_client) -> None:
    async with make_client(host) as client:
        identity = await client.identity()
    assert identity.vendor == "Dell Inc."
    assert identity.model == "PowerEdge R750"
    assert identity.service_tag == host.tag
    assert identity.dell_system_id == 0x0A6B
    assert identity.bios_version == host.state()["firmware"]["bios"]
    assert identity.bmc_version == host.state()["firmware"]["idrac"]
    assert identity.power_state == "On"
    assert (identity.health, identity.health_rollup) == ("OK", "OK")
    assert identity.dell_oem


async def test_lifecycle_controller_ready(host, make_client) -> None:
    async with make_client(host) as client:
        status = await client.lifecycle_status()
    assert status.ready and status.lc_status == "Ready" and status.server_status == "OutOfPOST"


async def test_licenses_in_one_expanded_request(host, make_client) -> None:
    async with make_client(host) as client:
        await client.identity()
        sent = client.transport.requests_sent
        (enterprise,) = await client.licenses() or []
        assert client.transport.requests_sent - sent == 1
        host.set_license("Express")
        (express,) = await client.licenses() or []
    assert enterprise.description == "iDRAC9 x5 Enterprise License"
    assert (enterprise.license_type, enterprise.primary_status) == ("Perpetual", "OK")
    assert express.description == "iDRAC9 x5 Express License"


async def test_no_licenses_on_a_generic_bmc(generic_host, make_client) -> None:
    async with make_client(generic_host) as client:
        assert await client.licenses() is None


async def test_inventory_in_one_expanded_request(host, make_client) -> None:
    async with make_client(host) as client:
        await client.transport.login()
        sent = client.transport.requests_sent
        inventory = await client.firmware_inventory()
        assert client.transport.requests_sent - sent == 1
    installed = {c.name: c for c in inventory.installed()}
    bios = installed["BIOS"]
    assert (bios.component_id, bios.fqdd, bios.version) == ("159", "BIOS.Setup.1-1", "1.10.2")
    assert installed["Integrated Dell Remote Access Controller"].component_id == "25227"
    assert all(c.kind is ImageKind.INSTALLED for c in inventory.installed())
    assert len(inventory.installed()) == 6, "BIOS Installed- and Current- are one device"
