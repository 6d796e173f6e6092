"""A simulator with hosts of every personality (each iDRAC9 line and the generic BMC).

Tests take fresh hosts from it, so no test sees another's jobs, logs or faults, and talk
to them with plain httpx over verified TLS: these tests are about what the simulator
serves, whatever our client makes of it.
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from simulators.fleet import HostSpec
from simulators.idrac.personality import PERSONALITIES
from simulators.idrac.runner import SimulatorThread
from simulators.idrac.simulator import IdracSimulator

GENERIC = "generic"
KINDS = [*PERSONALITIES, GENERIC]
DELL_MANAGER = "/redfish/v1/Managers/iDRAC.Embedded.1"


@dataclass
class Host:
    kind: str
    tag: str
    url: str
    ca: str
    control_url: str

    def client(self, *, login: bool = True) -> httpx.Client:
        trust = ssl.create_default_context(cafile=self.ca)
        auth = ("root", "calvin") if login else None
        return httpx.Client(base_url=self.url, verify=trust, auth=auth, timeout=10)

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.control_url}/hosts/{self.tag}").raise_for_status().json()

    def set_faults(self, **faults: Any) -> None:
        httpx.post(f"{self.control_url}/hosts/{self.tag}/faults", json=faults).raise_for_status()

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.tag}: still not {what}: {self.state()}")
            time.sleep(0.05)

    def wait_until_settled(self) -> dict[str, Any]:
        """LC Ready and no job left running: what a finished update and reboot leave."""
        deadline = time.monotonic() + 60
        while True:
            state = self.state()
            busy = set(state["jobs"].values()) - {"Completed", "RebootCompleted", "Failed"}
            if state["lc_status"] == "Ready" and state["power_state"] == "On" and not busy:
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.tag} did not settle: {state}")
            time.sleep(0.05)


@dataclass
class Hosts:
    free: dict[str, list[Host]] = field(default_factory=dict)

    def take(self, kind: str) -> Host:
        return self.free[kind].pop(0)


@contextmanager
def personality_hosts(state_dir: Path, copies: int, time_scale: float) -> Iterator[Hosts]:
    specs: list[tuple[str, HostSpec]] = []
    for k, kind in enumerate(KINDS):
        for copy in range(copies):
            tag = f"PRS{k}{copy:03d}"
            spec = (
                HostSpec(name=tag.lower(), service_tag=tag, generic=True, model="Contoso X1")
                if kind == GENERIC
                else HostSpec(name=tag.lower(), service_tag=tag, personality=kind)
            )
            specs.append((kind, spec))
    sim = IdracSimulator(
        [spec for _, spec in specs],
        base_address=f"127.23.{random.randint(0, 250)}.1",
        port=0,
        time_scale=time_scale,
        state_dir=state_dir,
    )
    with SimulatorThread(sim) as running:
        hosts = Hosts()
        for kind, spec in specs:
            host = Host(
                kind,
                spec.service_tag,
                running.url_of(spec.service_tag),
                str(running.ca_path),
                running.control_url,
            )
            hosts.free.setdefault(kind, []).append(host)
        yield hosts


def push(client: httpx.Client, name: str, apply_time: str | None = None) -> httpx.Response:
    """A multipart push of a (fake) DUP named NAME, as Dell's scripts send it (§4.2)."""
    parameters = {"@Redfish.OperationApplyTime": apply_time} if apply_time else {}
    return client.post(
        "/redfish/v1/UpdateService/MultipartUpload",
        files={
            "UpdateParameters": (None, json.dumps(parameters), "application/json"),
            "UpdateFile": (name, b"MZ fake DUP\n", "application/octet-stream"),
        },
    )


def system_path(client: httpx.Client) -> str:
    return client.get("/redfish/v1/Systems").json()["Members"][0]["@odata.id"]


def reset(client: httpx.Client, reset_type: str = "ForceRestart") -> None:
    response = client.post(
        f"{system_path(client)}/Actions/ComputerSystem.Reset", json={"ResetType": reset_type}
    )
    assert response.status_code == 204, response.text
