"""Campaign at scale: 1,000 hosts in 50 clusters, two worker processes, one killed mid-run.

    .venv/bin/python -m benchmarks.campaign_scale [--clusters 50 --hosts-per-cluster 20
        --time-scale 0.05 --global-cap 50 --kill-at 0.3 --seed 1 --scratch-dir /dev/shm]

The same real parts as benchmarks/campaign_makespan.py (vcsim, the iDRAC simulator over
HTTPS, PostgreSQL, a Temporal dev server), with two `idrac-orch worker` processes on the
same task queues, each at the product's default poll intervals times the time scale.
When KILL_AT of the hosts are done, the second worker is killed (SIGKILL) and not
restarted: the first must finish the campaign alone, taking over the killed worker's
activities once their heartbeats time out.

The last stdout line is JSON:
- campaign_state, hosts_updated (of hosts);
- worker_peak_rss_mb: peak RSS of each worker (psutil, sampled every 0.2 s); target
  <= 500 MiB each;
- largest_history_events: the most events in one workflow's history (campaign, cluster
  and host workflows, every run of a continued-as-new chain counted on its own, as the
  server limits it), and which workflow; target <= 10,000 (the server warns at 10,240);
- makespan_s, killed_at_s (after the start), hosts_done_at_kill.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from benchmarks.campaign_makespan import (
    ProcessSampler,
    campaign_spec,
    cpu_probe_s,
    default_scratch_dir,
    scaled_default,
)
from benchmarks.makespan_bound import drawn_timings
from common.temporal import connect
from domain.runbook import HostStatus
from domain.temporal_names import TaskQueue
from simulators.fleet import ClusterSpec, DatacenterSpec, Fleet, HaSpec, HostSpec
from tests.integration.campaign.lab import Lab, running_lab
from tests.integration.campaign.processes import WorkerProcess
from tests.services.postgres import fresh_database
from tests.services.temporal import TemporalDevServer
from workflows.campaign import CampaignWorkflow
from workflows.selftest import SelfTestWorkflow

TARGET_RSS_MB = 500
TARGET_HISTORY_EVENTS = 10_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def scale_fleet(rng: random.Random, spread: float, clusters: int, size: int) -> Fleet:
    """CLUSTERS HA clusters of SIZE hosts on 127.25.<cluster>.<host>, each server with its
    own device durations drawn within +-SPREAD of the simulator's."""
    specs = [
        ClusterSpec(
            name=f"s{c:02d}",
            vms_per_host=1,
            ha=HaSpec(enabled=True, admission_control="failover_level", failover_level=1),
            hosts=[
                HostSpec(
                    name=f"esx-s{c:02d}-{h:02d}.scale.test",
                    service_tag=f"SC{c:02d}{h:03d}",
                    idrac_address=f"127.25.{c}.{h}",
                    timings=drawn_timings(rng, spread),
                )
                for h in range(1, size + 1)
            ],
        )
        for c in range(1, clusters + 1)
    ]
    return Fleet(datacenters=[DatacenterSpec(name="dc-scale", timezone="UTC", clusters=specs)])


def workflow_ids(campaign_id: str, result: Any) -> list[str]:
    """Every workflow the campaign started: itself, its clusters and hosts (the ids the
    campaign and cluster workflows give their children)."""
    clusters = [f"{campaign_id}-cluster-{c.cluster}" for c in result.clusters]
    hosts = [f"{campaign_id}-host-{o.service_tag}" for c in result.clusters for o in c.outcomes]
    return [campaign_id, *clusters, *hosts]


async def largest_history(client: Client, ids: list[str]) -> tuple[int, str]:
    """The most events in one run's history (each run of a continue-as-new chain counts
    on its own: the server's limits are per run)."""
    largest, which = 0, ""
    for workflow_id in ids:
        run_id: str | None = None
        while True:  # follow the chain back from the latest run
            try:
                handle = client.get_workflow_handle(workflow_id, run_id=run_id)
                history = await handle.fetch_history()
            except RPCError as error:  # a host that ended in the queue has no workflow
                if error.status is RPCStatusCode.NOT_FOUND:
                    break
                raise
            if len(history.events) > largest:
                largest, which = len(history.events), workflow_id
            first = history.events[0]
            if first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                break
            previous = first.workflow_execution_started_event_attributes.continued_execution_run_id
            if not previous:
                break
            run_id = previous
    return largest, which


async def run(
    lab: Lab, temporal: TemporalDevServer, workers: list[WorkerProcess], args: argparse.Namespace
) -> dict[str, Any]:
    client = await connect(lab.settings.model_copy(update={"temporal_address": temporal.address}))
    hosts = len(lab.fleet.hosts())
    await client.execute_workflow(
        SelfTestWorkflow.run,
        id="scale-selftest",
        task_queue=TaskQueue.CAMPAIGNS,
        execution_timeout=timedelta(minutes=2),
    )
    began = time.monotonic()
    handle: WorkflowHandle[Any, Any] = await lab.start_campaign(
        client, campaign_spec(lab, args.global_cap), "scale", timedelta(hours=3)
    )
    killed_at_s: float | None = None
    done_at_kill = 0
    result_task = asyncio.create_task(handle.result())
    while not result_task.done():
        await asyncio.wait({result_task}, timeout=10)
        if result_task.done():
            break
        try:
            status = await handle.query(CampaignWorkflow.status)
        except Exception as error:  # progress only; the result decides
            log(f"status query failed: {error}")
            continue
        done = len(status.outcomes)
        log(f"{time.monotonic() - began:6.0f} s: {done}/{hosts} hosts done")
        if killed_at_s is None and done >= args.kill_at * hosts:
            workers[1].kill()
            killed_at_s, done_at_kill = time.monotonic() - began, done
            log(f"worker 2 killed (SIGKILL) at {killed_at_s:.0f} s, {done} hosts done")
    result = result_task.result()
    makespan_s = time.monotonic() - began
    log(f"campaign {result.state.value} in {makespan_s:.0f} s; reading histories")
    outcomes = [o for c in result.clusters for o in c.outcomes]
    not_updated = [o for o in outcomes if o.status is not HostStatus.UPDATED]
    for outcome in not_updated[:20]:
        log(f"not updated: {outcome.service_tag} {outcome.describe()}")
    ids = workflow_ids(handle.id, result)
    events, which = await largest_history(client, ids)
    return {
        "statuses": dict(Counter(o.status.value for o in outcomes)),
        "not_updated_reasons": dict(
            Counter(f"{o.failed_step}: {o.reason[:160]}" for o in not_updated).most_common(5)
        ),
        "campaign_state": result.state.value,
        "hosts": hosts,
        "hosts_updated": sum(o.status is HostStatus.UPDATED for o in outcomes),
        "makespan_s": round(makespan_s, 1),
        "killed_at_s": round(killed_at_s, 1) if killed_at_s is not None else None,
        "hosts_done_at_kill": done_at_kill,
        "largest_history_events": events,
        "largest_history_workflow": which,
        "workflows": len(ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--hosts-per-cluster", type=int, default=20)
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--global-cap", type=int, default=50)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of hosts done")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spread", type=float, default=0.25)
    parser.add_argument("--scratch-dir", type=Path, default=default_scratch_dir())
    args = parser.parse_args()

    fleet = scale_fleet(
        random.Random(args.seed), args.spread, args.clusters, args.hosts_per_cluster
    )
    idrac_poll_s = scaled_default("idrac_poll_interval_s", args.time_scale)
    vcenter_poll_s = scaled_default("vcenter_poll_interval_s", args.time_scale)
    log(f"{len(fleet.hosts())} hosts in {args.clusters} clusters; polls iDRAC {idrac_poll_s} s")
    probe_s = cpu_probe_s()
    with (
        tempfile.TemporaryDirectory(prefix="campaign-scale-", dir=args.scratch_dir) as tmp,
        fresh_database(prefix="idrac_orch_scale") as url,
    ):
        work = Path(tmp)
        log("building vcsim, the iDRAC simulator and the inventory")
        with running_lab(
            url, work / "lab", fleet=fleet, time_scale=args.time_scale, vcsim_ready_timeout_s=900
        ) as lab:
            temporal = TemporalDevServer(work / "temporal")
            temporal.start()
            workers = [WorkerProcess(lab, temporal, work / f"worker-{i}.log") for i in (1, 2)]
            for worker in workers:
                # The product's heartbeat timeout (the test harness's 3 s is for kill tests).
                worker.env.pop("IDRAC_ORCH_ACTIVITY_HEARTBEAT_TIMEOUT_S", None)
                worker.env.update(
                    {
                        "IDRAC_ORCH_IDRAC_POLL_INTERVAL_S": str(idrac_poll_s),
                        "IDRAC_ORCH_VCENTER_POLL_INTERVAL_S": str(vcenter_poll_s),
                    }
                )
            try:
                for worker in workers:
                    worker.start()
                samplers = [ProcessSampler(w.process.pid) for w in workers if w.process]
                with samplers[0].running(), samplers[1].running():
                    measured = asyncio.run(run(lab, temporal, workers, args))
            finally:
                for worker in workers:
                    worker.stop()
                temporal.stop()
    rss = [round(s.peak_bytes / 2**20, 1) for s in samplers]
    print(
        json.dumps(
            {
                **measured,
                "worker_peak_rss_mb": rss,
                "rss_target_met": max(rss) <= TARGET_RSS_MB,
                "history_target_met": measured["largest_history_events"] <= TARGET_HISTORY_EVENTS,
                "clusters": args.clusters,
                "global_cap": args.global_cap,
                "time_scale": args.time_scale,
                "idrac_poll_s": idrac_poll_s,
                "vcenter_poll_s": vcenter_poll_s,
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "cpu_probe_s": round(probe_s, 2),
                "seed": args.seed,
            }
        )
    )


if __name__ == "__main__":
    main()
