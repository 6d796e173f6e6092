"""A lab as slow as a datacenter. The simulators answer in microseconds and vcsim's
maintenance tasks finish at once, so the runbook's vCenter steps last ~50 ms, too short
for a kill to land in them; a TCP relay that delays what the client sends makes each
vCenter round trip take ``delay_s`` (TLS passes through untouched), and the inventory
points at it. The iDRACs answer in 50 ms, and a server's POST takes 5 minutes (iDRAC time;
a large-memory PowerEdge), so a reboot outlasts a worker's restart as it does for real."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace

from sqlmodel import Session, select

from store.models import Vcenter
from tests.integration.campaign.lab import Lab


class LatencyRelay:
    """127.0.0.1:<port> -> target, each client chunk held back ``delay_s``; on its own loop."""

    def __init__(self, host: str, port: int, delay_s: float) -> None:
        self.target = (host, port)
        self.delay_s = delay_s
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-relay", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.target)
        except OSError:
            client_out.close()
            return
        await asyncio.gather(
            self._pump(client_in, server_out, self.delay_s),
            self._pump(server_in, client_out, 0.0),
        )

    @staticmethod
    async def _pump(
        source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay_s: float
    ) -> None:
        with suppress(OSError):
            while chunk := await source.read(65536):
                if delay_s:
                    await asyncio.sleep(delay_s)
                sink.write(chunk)
                await sink.drain()
        sink.close()

    def __enter__(self) -> LatencyRelay:
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


IDRAC_LATENCY_S = 0.05
VCENTER_LATENCY_S = 0.05
POST_S = 300.0


@contextmanager
def like_a_datacenter(lab: Lab) -> Iterator[LatencyRelay]:
    """Slow answers and long POSTs (see above) for the lab's lifetime."""
    lab.idrac.latency_s = IDRAC_LATENCY_S
    for host in lab.idrac.hosts.values():
        host.timings = replace(host.timings, post=POST_S)
    with slow_vcenter(lab, VCENTER_LATENCY_S) as relay:
        yield relay


@contextmanager
def slow_vcenter(lab: Lab, delay_s: float) -> Iterator[LatencyRelay]:
    """The worker's vCenter (the inventory's address) behind a LatencyRelay; the truth
    readers (``lab.vcenter()``) still talk to vcsim directly."""
    with LatencyRelay(lab.vcsim.host, lab.vcsim.port, delay_s) as relay:
        with Session(lab.resources.engine) as session:
            for row in session.exec(select(Vcenter)).all():
                row.address = f"https://127.0.0.1:{relay.port}/sdk"
                session.add(row)
            session.commit()
        yield relay
