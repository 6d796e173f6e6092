"""Resources the activities resolve at call time, on the lab's real PostgreSQL and iDRACs."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import text

from domain.runbook import HostRef
from tests.integration.campaign.lab import Lab

SAFETY_NET_S = 10.0  # releases the lock even if the event loop never gets to


async def test_a_credential_lookup_waiting_on_the_store_does_not_stall_other_hosts(
    lab: Lab,
) -> None:
    """Every Redfish activity of a worker shares one event loop: while one host's credential
    lookup waits on the database, the other hosts' requests and polls must go on."""
    dc, cluster, spec = lab.fleet.hosts()[0]
    assert spec.idrac_address is not None
    host = HostRef(
        name=spec.name,
        service_tag=spec.service_tag,
        idrac_address=spec.idrac_address,
        cluster=cluster.name,
        datacenter=dc.name,
    )
    with lab.resources.engine.connect() as locker:
        locker.execute(text("LOCK TABLE servers IN ACCESS EXCLUSIVE MODE"))
        safety_net = threading.Timer(SAFETY_NET_S, locker.rollback)
        safety_net.start()
        try:
            lookup = asyncio.create_task(lab.resources.redfish(host))
            # Only an event loop that the waiting lookup leaves free wakes up from this
            # sleep while the table is still locked.
            await asyncio.sleep(0.2)
            assert not lookup.done(), "the lookup blocked the event loop until the lock went"
            locker.rollback()
        finally:
            safety_net.cancel()
    async with await asyncio.wait_for(lookup, SAFETY_NET_S) as client:
        identity = await client.identity()
    assert identity.service_tag == spec.service_tag
