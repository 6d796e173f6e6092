"""Campaign makespan: 200 hosts in 20 clusters, one BIOS campaign, time-scaled simulators.

    .venv/bin/python -m benchmarks.campaign_makespan [--time-scale 0.1 --global-cap 20
        --copies 5 --seed 1 --spread 0.25 --scratch-dir /dev/shm]

About 7 minutes on the 2-core development machine (see docs/benchmarks.md).

Everything is real and on loopback (see docs/benchmarks.md): vcsim, the iDRAC simulator
over HTTPS, a PostgreSQL inventory, a Temporal dev server and the worker as its own
process (`python -m cli.main worker`, configured by IDRAC_ORCH_* like production). The
worker runs the product's defaults; its poll intervals are the defaults times the time
scale (an iDRAC second lasts TIME_SCALE seconds), nothing tuned below them. Each server's
own durations are drawn (seeded) within +-SPREAD of the simulator's figures.

Clusters differ in how many hosts vCenter lets go at once (HA failover level 1 and
min_hosts_online 2 leave n - 2 of a small cluster; the policy caps at 4):
5 x 3 hosts (1 at a time), 5 x 4 (2), 5 x 5 (3), 5 x 28 (4).

The last stdout line is JSON:
- makespan_ratio: campaign wall time (start request to result) / lower bound, the lower
  bound being the larger of the worst cluster's max(longest host, sum of its device
  times / hosts allowed down at once) and max(longest host, sum of all device times /
  global cap) (benchmarks/makespan_bound.py);
- overhead_s_per_host: mean over hosts of HostOutcome (finished_at - started_at) minus
  that host's device time;
- redfish_requests_per_host: the iDRAC simulator's request counters / hosts;
- worker_peak_rss_mb: peak RSS of the worker process (psutil, sampled every 0.2 s);
plus diagnostics (worker CPU seconds, time per activity type from the histories, the
cost of one vCenter call).
Device times are computed from each simulated server's scaled timings, not measured, so
they hold no orchestration time at all. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle, WorkflowHistory

from activities.names import Vcenter
from benchmarks.makespan_bound import device_seconds, drawn_timings, lower_bound
from common.settings import Settings
from common.temporal import connect
from domain.campaign_spec import CampaignSpec
from domain.capacity import (
    CapacityPolicy,
    ClusterFacts,
    HaAdmission,
    HostResources,
    VmLoad,
    may_enter_maintenance,
)
from domain.runbook import CampaignResult, HostStatus
from domain.temporal_names import TaskQueue
from integrations.vcenter import VCenterClient, VCenterSettings, read_scope
from simulators.fleet import ClusterSpec, DatacenterSpec, Fleet, HaSpec, HostSpec
from tests.integration.campaign.lab import Lab, running_lab
from tests.integration.campaign.test_crash_safety import WorkerProcess
from tests.services.postgres import fresh_database
from tests.services.temporal import TemporalDevServer
from workflows.campaign import CampaignWorkflow
from workflows.selftest import SelfTestWorkflow

TARGET = "2.13.0"  # the simulator's BIOS starts at 1.10.2: every host needs the update
# Cluster sizes; COPIES clusters of each: 200 hosts in 20 clusters (--copies 1 for a
# 40-host fleet that shows how the per-host overhead grows with the fleet).
SIZES = (3, 4, 5, 28)
COPIES = 5
MAX_PER_CLUSTER = 4
MIN_HOSTS_ONLINE = 2
GRACE_S = 60


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_fleet(rng: random.Random, spread: float, copies: int = COPIES) -> Fleet:
    """HA clusters (failover level 1) on 127.24.<cluster>.<host>, each server with its
    own device durations drawn from RNG within +-SPREAD."""
    clusters: list[ClusterSpec] = []
    for size in SIZES:
        for _ in range(copies):
            c = len(clusters) + 1
            hosts = [
                HostSpec(
                    name=f"esx-{c:02d}-{h:02d}.bench.test",
                    service_tag=f"BM{c:02d}{h:03d}",
                    idrac_address=f"127.24.{c}.{h}",
                    timings=drawn_timings(rng, spread),
                )
                for h in range(1, size + 1)
            ]
            clusters.append(
                ClusterSpec(
                    name=f"c{c:02d}-{size}h",
                    vms_per_host=1,
                    ha=HaSpec(enabled=True, admission_control="failover_level", failover_level=1),
                    hosts=hosts,
                )
            )
    return Fleet(datacenters=[DatacenterSpec(name="dc-bench", timezone="UTC", clusters=clusters)])


def allowed_at_once(cluster: ClusterSpec) -> int:
    """What vCenter's capacity answer allows this cluster with nobody down (domain rules)."""
    facts = ClusterFacts(
        name=cluster.name,
        hosts=[
            HostResources(
                name=h.name,
                cpu_mhz=h.cpu_cores * h.cpu_mhz,
                memory_mb=h.memory_mb,
                available=True,
            )
            for h in cluster.hosts
        ],
        vms=[
            VmLoad(name=vm.name, host=h.name, cpu_mhz=0, memory_mb=vm.memory_mb)
            for h in cluster.hosts
            for vm in cluster.vms_of(h)
        ],
        ha=HaAdmission(
            enabled=cluster.ha.enabled,
            policy=cluster.ha.admission_control,
            failover_level=cluster.ha.failover_level,
            failover_hosts=cluster.ha.failover_hosts,
        ),
    )
    policy = CapacityPolicy(max_concurrent=MAX_PER_CLUSTER, min_hosts_online=MIN_HOSTS_ONLINE)
    return may_enter_maintenance(facts, policy).may_enter


def scaled_default(setting: str, time_scale: float) -> float:
    """A worker setting at the product's default, in simulated time."""
    default = Settings.model_fields[setting].default
    return float(default) * time_scale


def campaign_spec(lab: Lab, global_cap: int) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "targets": {"clusters": [c.name for _, c in lab.fleet.clusters()]},
            "firmware": [
                {"component_id": "159", "version": TARGET, "package_id": lab.bios_packages[TARGET]}
            ],
            "policy": {
                "max_concurrent_per_cluster": MAX_PER_CLUSTER,
                "min_hosts_online": MIN_HOSTS_ONLINE,
                "global_max_concurrent": global_cap,
                "reboot": {"mode": "graceful", "grace_period_s": GRACE_S},
            },
        }
    )


class ProcessSampler:
    """Peak resident memory and CPU seconds used of one process, sampled on a thread."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.process = psutil.Process(pid)
        self.every_s = every_s
        self.peak_bytes = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self.process.memory_info().rss)
                cpu = self.process.cpu_times()
                self.cpu_s = cpu.user + cpu.system
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.every_s)

    @contextmanager
    def running(self) -> Iterator[ProcessSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


@dataclass
class StepStats:
    """Per activity type, summed per host: time queued (scheduled->started) and running."""

    queued_s: float = 0.0
    running_s: float = 0.0
    calls: int = 0


def activity_breakdown(histories: list[WorkflowHistory]) -> dict[str, StepStats]:
    """Where the time of these workflows went, from their Temporal histories."""
    stats: dict[str, StepStats] = defaultdict(StepStats)
    for history in histories:
        scheduled: dict[int, tuple[str, float]] = {}
        started: dict[int, float] = {}
        for event in history.events:
            at = _event_s(event)
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                scheduled[event.event_id] = (name, at)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started[event.activity_task_started_event_attributes.scheduled_event_id] = at
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                sid = event.activity_task_completed_event_attributes.scheduled_event_id
                name, at_scheduled = scheduled[sid]
                step = stats[name]
                step.calls += 1
                step.queued_s += started[sid] - at_scheduled
                step.running_s += at - started[sid]
    return stats


def handover_s(cluster_histories: list[WorkflowHistory]) -> float:
    """Mean time from a host's runbook ending to its cluster starting the next one
    (capacity answer, campaign slot, child start), over every host that had a successor."""
    gaps = []
    for history in cluster_histories:
        ended: float | None = None
        for event in history.events:
            at = _event_s(event)
            if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
                ended = at if ended is None else ended
            elif (
                event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
                and ended is not None
            ):
                gaps.append(at - ended)
                ended = None
    return statistics.mean(gaps) if gaps else 0.0


@dataclass
class SlotUsage:
    """How the slots (hosts in flight at once) were used, from the histories."""

    idle_start_s: float  # slot-seconds idle until every slot was busy the first time
    idle_handover_s: float  # ... between then and the last host's start
    idle_tail_s: float  # ... after the last host started: slots emptying one by one
    round_spread_s: list[float]  # per group of `cap` consecutive starts: last - first


def slot_usage(
    campaign: WorkflowHistory, host_histories: list[WorkflowHistory], cap: int
) -> SlotUsage:
    """The lower bound assumes all ``cap`` slots (hosts in flight at once) busy from start
    to end in lockstep rounds; this says where and how much that fails (the tail grows as
    the rounds' starts spread)."""
    spans = sorted((_event_s(h.events[0]), _event_s(h.events[-1])) for h in host_histories)
    begin, end = _event_s(campaign.events[0]), _event_s(campaign.events[-1])
    last_start = spans[-1][0]
    changes = sorted([(start, 1) for start, _ in spans] + [(stop, -1) for _, stop in spans])
    idle = {"start": 0.0, "handover": 0.0, "tail": 0.0}
    busy, since, all_busy_once = 0, begin, False
    for at, step in [*changes, (end, 0)]:
        phase = "start" if not all_busy_once else "tail" if at > last_start else "handover"
        idle[phase] += (cap - busy) * (at - since)
        busy, since = busy + step, at
        all_busy_once = all_busy_once or busy >= cap
    rounds = [spans[i : i + cap] for i in range(0, len(spans), cap)]
    return SlotUsage(
        idle_start_s=idle["start"],
        idle_handover_s=idle["handover"],
        idle_tail_s=idle["tail"],
        round_spread_s=[group[-1][0] - group[0][0] for group in rounds],
    )


def _event_s(event: HistoryEvent) -> float:
    return event.event_time.ToDatetime().timestamp()


async def watch(handle: WorkflowHandle[Any, Any], hosts: int, every_s: float = 10.0) -> None:
    """Progress to stderr until cancelled."""
    began = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        try:
            status = await handle.query(CampaignWorkflow.status)
        except Exception as error:  # progress only; the result decides
            log(f"status query failed: {error}")
            continue
        log(
            f"{time.monotonic() - began:6.0f} s: {len(status.outcomes)}/{hosts} hosts done, "
            f"{len(status.hosts_in_flight)} in flight"
        )


@dataclass
class CampaignRun:
    result: CampaignResult
    makespan_s: float
    breakdown: dict[str, StepStats]
    handover_s: float
    slots: SlotUsage


async def run_campaign(
    lab: Lab,
    temporal: TemporalDevServer,
    global_cap: int,
    slots_at_once: int,
    keep_histories: Path | None,
) -> CampaignRun:
    # The worker's payload codec (the lab's secret key): it reads what the worker wrote.
    client = await connect(lab.settings.model_copy(update={"temporal_address": temporal.address}))
    hosts = len(lab.fleet.hosts())
    # As after a deploy (`idrac-orch selftest`): the worker polls every queue before the
    # clock starts, so its start-up (seconds of imports) is not counted as makespan.
    await client.execute_workflow(
        SelfTestWorkflow.run,
        id="makespan-selftest",
        task_queue=TaskQueue.CAMPAIGNS,
        execution_timeout=timedelta(minutes=2),
    )
    began = time.monotonic()
    spec = campaign_spec(lab, global_cap)
    handle = await lab.start_campaign(client, spec, "makespan", timedelta(minutes=30))
    progress = asyncio.create_task(watch(handle, hosts))
    try:
        result = await handle.result()
    finally:
        progress.cancel()
    makespan_s = time.monotonic() - began
    log(f"campaign {result.state.value} in {makespan_s:.1f} s; reading histories")
    host_ids = [f"{handle.id}-host-{o.service_tag}" for c in result.clusters for o in c.outcomes]
    cluster_ids = [f"{handle.id}-cluster-{c.cluster}" for c in result.clusters]
    histories = {
        workflow_id: await client.get_workflow_handle(workflow_id).fetch_history()
        for workflow_id in [handle.id, *cluster_ids, *host_ids]
    }
    if keep_histories is not None:
        for workflow_id, history in histories.items():
            await asyncio.to_thread(save, keep_histories / f"{workflow_id}.json", history.to_json())
    return CampaignRun(
        result=result,
        makespan_s=makespan_s,
        breakdown=activity_breakdown([histories[i] for i in host_ids + cluster_ids]),
        handover_s=handover_s([histories[i] for i in cluster_ids]),
        slots=slot_usage(histories[handle.id], [histories[i] for i in host_ids], slots_at_once),
    )


def save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def vcenter_call_s(lab: Lab, samples: int = 3) -> float:
    """Median wall time of what a vCenter activity does: read the largest cluster (its
    hosts and VMs) on a session that is already logged in, as the worker's pool keeps."""
    settings = VCenterSettings(
        url=lab.vcsim.url,
        username=lab.fleet.vcenter.username,
        password=SecretStr(lab.fleet.vcenter.password),
        insecure=True,  # the simulator's self-signed certificate
    )
    largest = max((c for _, c in lab.fleet.clusters()), key=lambda c: len(c.hosts)).name
    times = []
    with VCenterClient(settings) as client:
        for _ in range(samples):
            began = time.perf_counter()
            read_scope(client, cluster=largest)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def default_scratch_dir() -> Path | None:
    """tmpfs when there is one: the dev server's SQLite syncs every commit to disk, which on
    a shared virtual disk delayed signals between workflows (p90 0.5 s, 0.06-0.11 s on
    tmpfs). A production Temporal keeps its histories on its own database."""
    shm = Path("/dev/shm")  # noqa: S108 - a mkdtemp directory inside it, not a fixed file
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def cpu_probe_s(runs: int = 3) -> float:
    """Median time of a fixed pure-Python loop: how fast this machine's cores are today,
    so that runs on other days or machines can be told apart from code changes."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        sum(i * i for i in range(5_000_000))
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def redfish_requests(lab: Lab) -> Counter[str]:
    """Requests the simulated iDRACs answered so far, by method and resource."""
    hosts = httpx.get(f"{lab.idrac.control_url}/hosts", timeout=30).raise_for_status().json()
    return sum((Counter(h["requests_by_resource"]) for h in hosts), Counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--global-cap", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="draws the servers' timings")
    parser.add_argument("--spread", type=float, default=0.25, help="+- share of each timing")
    parser.add_argument("--copies", type=int, default=COPIES, help="clusters of each size")
    parser.add_argument(
        "--keep-histories", type=Path, help="save every workflow's history here (JSON)"
    )
    parser.add_argument(
        "--scratch-dir",
        type=Path,
        default=default_scratch_dir(),
        help="where the lab and Temporal's database live (default: tmpfs if present)",
    )
    args = parser.parse_args()

    fleet = bench_fleet(random.Random(args.seed), args.spread, args.copies)
    clusters = [c for _, c in fleet.clusters()]
    hosts = len(fleet.hosts())
    device_s = {
        h.service_tag: device_seconds(h.timings, args.time_scale) for _, _, h in fleet.hosts()
    }
    lower_bound_s = lower_bound(
        [([device_s[h.service_tag] for h in c.hosts], allowed_at_once(c)) for c in clusters],
        args.global_cap,
    )
    idrac_poll_s = scaled_default("idrac_poll_interval_s", args.time_scale)
    vcenter_poll_s = scaled_default("vcenter_poll_interval_s", args.time_scale)
    # Hosts that can be in flight at once: the global cap, or less if the clusters allow less.
    slots_at_once = min(args.global_cap, sum(allowed_at_once(c) for c in clusters))
    log(
        f"{hosts} hosts, {len(clusters)} clusters; device time per host "
        f"{min(device_s.values()):.1f}-{max(device_s.values()):.1f} s"
    )
    log(f"lower bound {lower_bound_s:.1f} s")
    log(f"polls (defaults x time scale): iDRAC {idrac_poll_s} s, vCenter {vcenter_poll_s} s")
    probe_s = cpu_probe_s()
    log(f"CPU probe (fixed Python loop): {probe_s:.2f} s")

    with (
        tempfile.TemporaryDirectory(prefix="campaign-makespan-", dir=args.scratch_dir) as tmp,
        fresh_database(prefix="idrac_orch_bench") as url,
    ):
        work = Path(tmp)
        started = time.monotonic()
        log("building vcsim, the iDRAC simulator and the inventory")
        with running_lab(
            url, work / "lab", fleet=fleet, time_scale=args.time_scale, vcsim_ready_timeout_s=600
        ) as lab:
            log(
                f"lab ready in {time.monotonic() - started:.1f} s; starting Temporal and the worker"
            )
            temporal = TemporalDevServer(work / "temporal")
            temporal.start()
            worker = WorkerProcess(lab, temporal, work / "worker.log")
            worker.env.update(
                {
                    "IDRAC_ORCH_IDRAC_POLL_INTERVAL_S": str(idrac_poll_s),
                    "IDRAC_ORCH_VCENTER_POLL_INTERVAL_S": str(vcenter_poll_s),
                }
            )
            requests_before = redfish_requests(lab)
            vcenter_s = vcenter_call_s(lab)
            log(f"one vCenter read of the largest cluster: {vcenter_s:.2f} s")
            try:
                worker.start()
                assert worker.process is not None
                with ProcessSampler(worker.process.pid).running() as sampled:
                    run = asyncio.run(
                        run_campaign(
                            lab, temporal, args.global_cap, slots_at_once, args.keep_histories
                        )
                    )
            finally:
                worker.stop()
                temporal.stop()
            requests_by_resource = redfish_requests(lab) - requests_before
            requests = requests_by_resource.total()

    result, breakdown, slots = run.result, run.breakdown, run.slots
    outcomes = [o for c in result.clusters for o in c.outcomes]
    not_updated = [o.service_tag for o in outcomes if o.status is not HostStatus.UPDATED]
    if len(outcomes) != hosts or not_updated:
        log(f"WARNING: {len(outcomes)} outcomes, not updated: {not_updated}")
    walls = [(o.finished_at - o.started_at).total_seconds() for o in outcomes]
    overheads = [wall - device_s[o.service_tag] for wall, o in zip(walls, outcomes, strict=True)]
    first = min(o.started_at for o in outcomes)
    last = max(o.finished_at for o in outcomes)
    log("per host, mean seconds by activity (queued / running / calls):")
    for name, step in sorted(breakdown.items(), key=lambda kv: -kv[1].running_s):
        log(
            f"  {name:32s} {step.queued_s / hosts:6.2f} / {step.running_s / hosts:6.2f} "
            f"/ {step.calls / hosts:5.2f}"
        )
    vcenter_calls = sum(breakdown[name].calls for name in Vcenter if name in breakdown)
    # All vCenter activities share the worker's vCenter threads: a floor on the makespan.
    threads = Settings().vcenter_concurrency
    vcenter_bound_s = vcenter_calls * vcenter_s / threads
    log(
        f"{vcenter_calls / hosts:.2f} vCenter activities per host x {vcenter_s:.2f} s "
        f"/ {threads} threads = {vcenter_bound_s:.0f} s of vCenter queue"
    )
    print(
        json.dumps(
            {
                "makespan_ratio": round(run.makespan_s / lower_bound_s, 3),
                "overhead_s_per_host": round(statistics.mean(overheads), 3),
                "redfish_requests_per_host": round(requests / hosts, 1),
                "redfish_requests_per_host_by_resource": {
                    resource: round(count / hosts, 1)
                    for resource, count in requests_by_resource.most_common()
                },
                "worker_peak_rss_mb": round(sampled.peak_bytes / 2**20, 1),
                # CPU context: the worker's own, this process's (the iDRAC simulator runs
                # here) and the machine's load, which other users may share.
                "worker_cpu_s": round(sampled.cpu_s, 1),
                "harness_cpu_s": round(time.process_time(), 1),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "cpu_probe_s": round(probe_s, 2),
                "makespan_s": round(run.makespan_s, 1),
                "hosts_makespan_s": round((last - first).total_seconds(), 1),
                "lower_bound_s": round(lower_bound_s, 1),
                "device_s_per_host": round(statistics.mean(device_s.values()), 2),
                "device_s_range": [
                    round(min(device_s.values()), 2),
                    round(max(device_s.values()), 2),
                ],
                "host_wall_s_mean": round(statistics.mean(walls), 2),
                "host_wall_s_max": round(max(walls), 2),
                "handover_s": round(run.handover_s, 2),
                # Idle slot-seconds (of slots_at_once): the lower bound assumes none.
                "idle_slot_s": {
                    "start": round(slots.idle_start_s, 1),
                    "handover": round(slots.idle_handover_s, 1),
                    "tail": round(slots.idle_tail_s, 1),
                },
                "round_spread_s": [round(spread, 1) for spread in slots.round_spread_s],
                "vcenter_call_s": round(vcenter_s, 2),
                "vcenter_calls_per_host": round(vcenter_calls / hosts, 2),
                "vcenter_queue_bound_s": round(vcenter_bound_s, 1),
                "hosts": hosts,
                "hosts_updated": len(outcomes) - len(not_updated),
                "clusters": len(clusters),
                "global_cap": args.global_cap,
                "slots_at_once": slots_at_once,
                "time_scale": args.time_scale,
                "idrac_poll_s": idrac_poll_s,
                "vcenter_poll_s": vcenter_poll_s,
                "seed": args.seed,
                "spread": args.spread,
                "scratch_dir": str(args.scratch_dir or tempfile.gettempdir()),
                "campaign_state": result.state.value,
                "activity_s_per_host": {
                    name: round((s.queued_s + s.running_s) / hosts, 2)
                    for name, s in sorted(breakdown.items())
                },
            }
        )
    )


if __name__ == "__main__":
    main()
