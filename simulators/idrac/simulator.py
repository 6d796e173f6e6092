"""The iDRAC fleet simulator: one asyncio process, one HTTPS port, one address per iDRAC.

Hosts come from a fleet file (each with its ``idrac_address`` or the next free address
from the base) or are generated (``SIM0001``... ``SIM9999``, then ``SI10000``...). A
loopback control endpoint (plain HTTP) exposes state, update-job counters and run-time
fault injection. If a vCenter control URL is given, host reboots are reported to it (see
docs/redfish.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import resource
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from simulators.fleet import Fleet, HostSpec
from simulators.idrac.app import handle
from simulators.idrac.components import COMPONENTS
from simulators.idrac.control import handle_control
from simulators.idrac.host import FetchError, SimHost, Timings
from simulators.idrac.http import HttpServer, Request, Response
from simulators.idrac.tls import make_tls

_INSTANCE_ID = re.compile(r"^(JID_|RID_)?[0-9a-f-]*[0-9][0-9a-f-]*$")
log = logging.getLogger("simulators.idrac")


def generated_hosts(count: int) -> list[HostSpec]:
    """COUNT hosts with distinct 7-character service tags (Dell's length), up to 99,999."""
    return [
        HostSpec(name=f"sim-{i:05d}.lab.test", service_tag=_generated_tag(i))
        for i in range(1, count + 1)
    ]


def _generated_tag(index: int) -> str:
    return f"SIM{index:04d}" if index < 10_000 else f"SI{index:05d}"


def assign_addresses(hosts: list[HostSpec], base_address: str) -> list[str]:
    """Each host's own idrac_address, else the next unused address counting up from BASE."""
    taken = {h.idrac_address for h in hosts if h.idrac_address}
    try:
        candidate = ipaddress.ip_address(base_address)
    except ValueError:
        raise ValueError(f"base address {base_address!r} is not an IP address") from None
    if not candidate.is_loopback:
        raise ValueError(f"base address {base_address} is not loopback (use 127.0.0.0/8)")
    addresses: list[str] = []
    for host in hosts:
        if host.idrac_address:
            addresses.append(host.idrac_address)
            continue
        while str(candidate) in taken:
            candidate += 1
        if not candidate.is_loopback:
            raise ValueError(f"ran out of loopback addresses at {candidate}")
        addresses.append(str(candidate))
        taken.add(str(candidate))
    return addresses


class IdracSimulator:
    def __init__(
        self,
        hosts: list[HostSpec],
        *,
        base_address: str = "127.20.0.1",
        port: int = 8443,
        time_scale: float = 1.0,
        latency_ms: float = 0.0,
        vcenter_control: str | None = None,
        control_address: str = "127.0.0.1",
        control_port: int = 0,
        state_dir: Path | None = None,
        timings: Timings | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self.latency_s = latency_ms / 1000
        self.port = port
        self.vcenter_control = vcenter_control.rstrip("/") if vcenter_control else None
        self._control_address = control_address
        self._control_port = control_port
        self._state_dir = state_dir or Path(tempfile.mkdtemp(prefix="idrac-sim-"))
        _check_firmware_keys(hosts)
        addresses = assign_addresses(hosts, base_address)
        self.hosts = {
            spec.service_tag: SimHost(spec, address, self, host_timings(spec, timings))
            for spec, address in zip(hosts, addresses, strict=True)
        }
        self._by_address = {h.address: h for h in self.hosts.values()}
        self._server: HttpServer | None = None
        self._control: HttpServer | None = None
        self._http = httpx.AsyncClient(verify=False, timeout=5.0)  # noqa: S501 (loopback image fetch, like IgnoreCertWarning=On)
        self.ca_path: Path | None = None

    @classmethod
    def from_fleet(cls, fleet: Fleet, **options: Any) -> IdracSimulator:
        return cls([h for _, _, h in fleet.hosts()], **options)

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        _raise_fd_limit(len(self.hosts) * 4 + 256)
        ssl_contexts, self.ca_path = make_tls(list(self._by_address), self._state_dir)
        self._server = HttpServer(self._handle, ssl_contexts)
        addresses = list(self._by_address)
        if self.port == 0:
            await self._server.listen(addresses[0], 0)
            self.port = self._server.port_of(addresses[0])
            addresses = addresses[1:]
        for address in addresses:
            await self._server.listen(address, self.port)
        self._control = HttpServer(self._handle_control, None)
        await self._control.listen(self._control_address, self._control_port)
        self._control_port = self._control.port_of(self._control_address)

    async def stop(self) -> None:
        for host in self.hosts.values():
            host.stop()
        if self._server:
            await self._server.close()
        if self._control:
            await self._control.close()
        await self._http.aclose()

    async def __aenter__(self) -> IdracSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -- what users see -------------------------------------------------------------
    @property
    def control_url(self) -> str:
        return f"http://{self._control_address}:{self._control_port}"

    def url_of(self, service_tag: str) -> str:
        return f"https://{self.hosts[service_tag].address}:{self.port}"

    def endpoints(self) -> list[tuple[str, str]]:
        return [(tag, self.url_of(tag)) for tag in self.hosts]

    # -- HostServices ---------------------------------------------------------------
    def scaled(self, seconds: float) -> float:
        return max(seconds, 0.0) * self.time_scale

    async def set_online(self, host: SimHost, online: bool) -> None:
        assert self._server is not None
        if online:
            await self._server.listen(host.address, self.port)
        else:
            await self._server.unlisten(host.address)

    async def notify_vcenter(self, host: SimHost, state: str) -> None:
        """Tell the vCenter simulator the ESXi host dropped or came back; never fatal."""
        if not self.vcenter_control:
            return
        url = f"{self.vcenter_control}/hosts/{host.tag}/connection"
        try:
            response = await self._http.post(url, json={"state": state})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("vCenter control call %s for %s failed: %s", state, host.tag, exc)

    async def fetch_image(self, uri: str) -> tuple[str, bytes]:
        """Transfer an image the way SimpleUpdate does, but only ever from loopback."""
        parts = urlsplit(uri)
        try:
            loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if parts.scheme not in ("http", "https") or not loopback:
            raise FetchError("SYS261")
        try:
            response = await self._http.get(uri)
        except httpx.HTTPError:
            raise FetchError("SYS261") from None
        if response.status_code == 404:
            raise FetchError("SYS226")
        if response.status_code != 200:
            raise FetchError("SYS252")
        return parts.path.rsplit("/", 1)[-1], response.content

    # -- request entry points -------------------------------------------------------
    async def _handle(self, request: Request) -> Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        host = self._by_address[request.local_address]
        host.requests += 1
        host.requests_by_resource[f"{request.method} {resource_of(request.path)}"] += 1
        return await handle(host, request)

    async def _handle_control(self, request: Request) -> Response:
        return await handle_control(self.hosts, request)


def resource_of(path: str) -> str:
    """PATH with its instance ids (jobs, tasks, sessions) as {id}, to count by resource."""
    return "/".join("{id}" if _INSTANCE_ID.match(part) else part for part in path.split("/"))


def host_timings(spec: HostSpec, base: Timings | None = None) -> Timings:
    """BASE (or the defaults) with the host's own durations from the fleet file."""
    known = {f.name for f in fields(Timings)}
    unknown = sorted(set(spec.timings) - known)
    if unknown:
        raise ValueError(
            f"host {spec.service_tag}: timings {unknown} unknown to the iDRAC simulator "
            f"(known: {', '.join(sorted(known))})"
        )
    negative = sorted(name for name, seconds in spec.timings.items() if seconds < 0)
    if negative:
        raise ValueError(f"host {spec.service_tag}: timings {negative} must be >= 0 seconds")
    return replace(base or Timings(), **spec.timings)


def _check_firmware_keys(hosts: list[HostSpec]) -> None:
    for host in hosts:
        unknown = sorted(set(host.firmware) - set(COMPONENTS))
        if unknown:
            raise ValueError(
                f"host {host.service_tag}: firmware components {unknown} unknown to the iDRAC "
                f"simulator (known: {', '.join(COMPONENTS)})"
            )


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
