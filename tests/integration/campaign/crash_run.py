"""One campaign through the real API while the worker is killed on a KillSchedule (and the
Temporal server once), with its status polled all along: the run that crash_audit judges.
With an empty schedule it is the no-kill baseline of the same campaign."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from common.temporal import connect
from domain.campaign_spec import CampaignSpec
from simulators.fleet import ClusterSpec, DatacenterSpec, Fleet, HaSpec, HostSpec
from tests.integration.campaign.chaos import (
    PROBE_EVERY_S,
    RPC_TIMEOUT,
    Kill,
    KillSchedule,
    StepProbe,
)
from tests.integration.campaign.lab import Lab
from tests.integration.campaign.processes import ApiProcess, CrashableTemporal, WorkerProcess
from tests.integration.campaign.status_poll import Answer, CampaignApi, StatusPoller

CLOSE_POLL_S = 0.5
PATIENCE_S = 8.0  # how long a fresh worker may wait for a step still below its minimum
TARGET = "2.13.0"
MAX_PER_CLUSTER = 2


def crash_fleet(hosts: int, clusters: int, base: str) -> Fleet:
    """HOSTS spread over CLUSTERS on ``base.<cluster * 20 + host>`` (at most 19 a cluster):
    HA admission control (failover level 1) on every other cluster of at least 4 hosts
    (a smaller one could never let a host go), every sixth host already compliant."""
    sizes = [hosts // clusters + (c < hosts % clusters) for c in range(clusters)]
    specs = []
    for c, size in enumerate(sizes):
        first = sum(sizes[:c])
        members = [
            HostSpec(
                name=f"esx-{c:02d}-{h:02d}.crash.test",
                service_tag=f"CR{c:02d}{h:03d}",
                idrac_address=f"{base}.{(c + 1) * 20 + h}",
                firmware={"bios": TARGET} if (first + h) % 6 == 5 else {},
            )
            for h in range(size)
        ]
        ha = (
            HaSpec(enabled=True, admission_control="failover_level", failover_level=1)
            if c % 2 == 0 and size >= 4
            else HaSpec(enabled=False, admission_control="none")
        )
        specs.append(ClusterSpec(name=f"crash-{c:02d}", vms_per_host=1, ha=ha, hosts=members))
    return Fleet(datacenters=[DatacenterSpec(name="dc-crash", timezone="UTC", clusters=specs)])


def crash_spec(lab: Lab, global_cap: int) -> CampaignSpec:
    """Every cluster to TARGET, two hosts of a cluster at once, fewer slots than the clusters
    could use (so clusters wait for slots), and thresholds that never stop the campaign:
    every host runs, so every host's outcome is judged."""
    hosts = len(lab.fleet.hosts())
    return lab.bios_spec(
        {"clusters": [c.name for _, c in lab.fleet.clusters()]},
        TARGET,
        policy={
            "max_concurrent_per_cluster": MAX_PER_CLUSTER,
            "min_hosts_online": 1,
            "global_max_concurrent": global_cap,
            "cluster_failure_threshold": hosts,
            "campaign_failure_threshold": hosts,
            "reboot": {"mode": "graceful", "grace_period_s": 3},
        },
    )


class ChaosStack:
    """Temporal (persisted, so it can crash), the worker and the API, each its own process."""

    def __init__(self, lab: Lab, work_dir: Path) -> None:
        self.lab = lab
        self.temporal = CrashableTemporal(work_dir / "temporal")
        self.worker = WorkerProcess(lab, self.temporal, work_dir / "worker.log")
        self.api = ApiProcess(lab, self.temporal, work_dir / "api")
        self.temporal_up = False
        self.client: Client | None = None
        self.token = ""

    def up(self) -> tuple[bool, bool]:
        return self.worker.alive, self.temporal_up

    async def __aenter__(self) -> ChaosStack:
        await asyncio.to_thread(self.temporal.start)
        self.temporal_up = True
        self.client = await self.connect()
        self.worker.start()
        self.token = await asyncio.to_thread(self.api.start_and_login)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.worker.stop)
        await asyncio.to_thread(self.api.stop)
        await asyncio.to_thread(self.temporal.stop)

    async def connect(self) -> Client:
        """A client with the worker's payload codec (the lab's secret key): it reads what the
        worker wrote, encrypted."""
        return await connect(
            self.lab.settings.model_copy(update={"temporal_address": self.temporal.address})
        )

    async def restart_temporal(self, down_s: float) -> None:
        """kill -9 the server, leave it down a while, start it again on the same file."""
        self.temporal.crash()
        self.temporal_up = False
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.temporal.start)
        self.temporal_up = True
        self.client = await self.connect()


@dataclass
class ChaosRun:
    """Everything observed during one campaign: kills, API answers, the final reads."""

    campaign_id: int
    workflow_id: str
    kills: list[Kill] = field(default_factory=list)
    unplanned_exits: list[float] = field(default_factory=list)  # worker died by itself
    server_crashes: int = 0
    spared: set[str] = field(default_factory=set)  # last attempts a kill waited for
    answers: list[Answer] = field(default_factory=list)
    closed: bool = False
    makespan_s: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)  # the last GET /campaigns/{id}
    host_records: list[dict[str, Any]] = field(default_factory=list)


class Chaos:
    """Kills the worker where the schedule aims, until the schedule is done or the
    campaign closed; restarts whatever died."""

    def __init__(
        self, stack: ChaosStack, schedule: KillSchedule, run: ChaosRun, clusters: list[str]
    ) -> None:
        assert stack.client is not None
        self.stack = stack
        self.schedule = schedule
        self.run = run
        self.probe = StepProbe(stack.client, run.workflow_id, clusters)
        self.began = self.worker_started = time.monotonic()
        self.hits_per_workflow: Counter[str] = Counter()

    async def campaign_open(self) -> bool:
        """Open unless Temporal says it closed (unknown while the server is down)."""
        assert self.stack.client is not None
        try:
            handle = self.stack.client.get_workflow_handle(self.run.workflow_id)
            described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        except Exception:
            return True
        return described.status == WorkflowExecutionStatus.RUNNING

    def start_worker(self) -> None:
        self.stack.worker.start()
        self.worker_started = time.monotonic()

    async def revive_worker(self) -> None:
        if not self.stack.worker.alive:
            self.run.unplanned_exits.append(self.elapsed())
            self.start_worker()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.began, 2)

    async def kill_on_schedule(self, deadline: float) -> None:
        worker, schedule = self.stack.worker, self.schedule
        while not schedule.done and len(self.run.kills) < 2 * schedule.kills:
            if time.monotonic() > deadline or not await self.campaign_open():
                return
            await self.revive_worker()
            look = await self.probe.look(worker)
            patient = time.monotonic() - self.worker_started < PATIENCE_S
            sighting = schedule.choose(look.sightings, self.hits_per_workflow, patient)
            if sighting is not None and look.last_attempts:
                self.run.spared.update(look.last_attempts)
                sighting = None
            if sighting is None:
                await asyncio.sleep(PROBE_EVERY_S)
                continue
            await asyncio.sleep(schedule.dwell(sighting.target))
            if await self.spare_last_attempts():
                continue  # a last attempt began during the dwell
            if not await self.probe.still_there(sighting):
                continue  # over before the kill could land: look again
            worker.kill()
            self.probe.forget_waits()
            confirmed = await self.probe.still_there(sighting)
            schedule.record(sighting.target, confirmed)
            self.hits_per_workflow[sighting.workflow_id] += confirmed
            delay = schedule.rng.uniform(*schedule.restart_delay_s)
            self.run.kills.append(
                Kill(
                    self.elapsed(),
                    sighting.target,
                    sighting.workflow_id,
                    sighting.activity_id,
                    sighting.attempt,
                    confirmed,
                    round(delay, 2),
                    round(time.monotonic() - self.worker_started, 2),
                )
            )
            await asyncio.sleep(delay)
            self.start_worker()
            if len(self.run.kills) == schedule.server_crash_after:
                await self.crash_server()

    async def spare_last_attempts(self) -> bool:
        spared = await self.probe.last_attempts_now()
        self.run.spared.update(spared)
        return bool(spared)

    async def crash_server(self) -> None:
        """Once: the Temporal server dies while the fresh worker runs, and comes back. Its
        outage can outlast the heartbeat timeout (3 s), so it waits until no last attempt
        is pending."""
        await asyncio.sleep(self.schedule.rng.uniform(2.0, 4.0))
        while True:
            if not await self.spare_last_attempts():
                break
            await asyncio.sleep(PROBE_EVERY_S)
        await self.stack.restart_temporal(down_s=self.schedule.rng.uniform(0.5, 2.0))
        assert self.stack.client is not None
        self.probe.client = self.stack.client
        self.run.server_crashes += 1

    async def wait_closed(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            await self.revive_worker()
            if not await self.campaign_open():
                return True
            await asyncio.sleep(CLOSE_POLL_S)
        return False


async def run_campaign(
    stack: ChaosStack,
    spec: CampaignSpec,
    schedule: KillSchedule,
    timeout_s: float,
    name: str = "crash",
) -> ChaosRun:
    """Start SPEC through the API, kill on SCHEDULE, wait (at most TIMEOUT_S in all) for
    the campaign to close, then read its final status and per-host records."""
    api = CampaignApi(stack.api.url, stack.token)
    clusters = sorted(spec.targets.clusters)
    began = time.monotonic()
    deadline = began + timeout_s
    try:
        campaign_id = await api.start(name, spec)
        run = ChaosRun(campaign_id, f"campaign-{campaign_id}")
        poller = StatusPoller(api, campaign_id, stack.up)
        stop = asyncio.Event()
        polling = asyncio.create_task(poller.run(stop))
        chaos = Chaos(stack, schedule, run, clusters)
        try:
            await chaos.kill_on_schedule(deadline)
            run.closed = await chaos.wait_closed(deadline)
            run.makespan_s = round(time.monotonic() - began, 2)
        finally:
            stop.set()
            await polling
        run.answers = poller.answers
        run.final = await api.detail(campaign_id)
        run.host_records = await api.host_records(campaign_id)
        return run
    finally:
        await api.close()
