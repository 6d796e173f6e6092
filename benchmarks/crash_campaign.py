"""Crash campaign: 50 hosts, >= 100 worker kills aimed at every runbook step, one Temporal
server crash, the API polled throughout; every reported outcome checked against the
simulators. The same campaign runs once without kills first (the makespan baseline).

    .venv/bin/python -m benchmarks.crash_campaign [--hosts 50 --clusters 8 --kills 100
        --seed N --time-scale 0.03 --global-cap 8 --timeout-s 3600 --scratch-dir /dev/shm]

The harness is the crash test's (tests/integration/campaign/chaos.py, crash_run.py,
crash_audit.py); see docs/benchmarks.md. Progress goes to stderr; the last stdout line is
JSON. Targets: false_outcomes, double_flashes, stranded_hosts, workflow_task_failures all 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.campaign_makespan import default_scratch_dir
from tests.integration.campaign.chaos import KillSchedule
from tests.integration.campaign.crash_audit import (
    CrashAudit,
    audit_run,
    kill_log,
    kills_per_step,
    summary,
)
from tests.integration.campaign.crash_run import (
    TARGET,
    ChaosRun,
    ChaosStack,
    crash_fleet,
    crash_spec,
    run_campaign,
)
from tests.integration.campaign.lab import running_lab
from tests.integration.campaign.latency import like_a_datacenter
from tests.services.postgres import fresh_database


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def one_campaign(
    args: argparse.Namespace, schedule: KillSchedule, work: Path
) -> tuple[ChaosRun, CrashAudit]:
    """A fresh lab (database, simulators, Temporal, worker, API) and one campaign in it."""
    fleet = crash_fleet(args.hosts, args.clusters, f"127.26.{random.randint(0, 250)}")
    with (
        fresh_database(prefix="idrac_orch_crash") as url,
        running_lab(url, work / "lab", fleet, args.time_scale, vcsim_ready_timeout_s=600) as lab,
        like_a_datacenter(lab),
    ):
        before = lab.truth()
        async with ChaosStack(lab, work) as stack:
            spec = crash_spec(lab, args.global_cap)
            run = await run_campaign(stack, spec, schedule, args.timeout_s, name="crash-bench")
            assert stack.client is not None
            return run, await audit_run(stack.client, run, lab, before, TARGET)


def result(
    args: argparse.Namespace, seed: int, baseline: ChaosRun, run: ChaosRun, audit: CrashAudit
) -> dict[str, Any]:
    confirmed = [kill for kill in run.kills if kill.confirmed]
    return {
        "kills_survived": len(run.kills) if run.closed else 0,
        "kills": len(run.kills),
        "kills_confirmed": len(confirmed),
        "kills_per_step": kills_per_step(run),
        "false_outcomes": len(audit.false_outcomes),
        "double_flashes": len(audit.double_flashes),
        "stranded_hosts": len(audit.stranded),
        "workflow_task_failures": len(audit.task_failures),
        "failed_by_crashes": len(audit.failed_by_crashes),
        "invalid_api_answers": len(audit.invalid_answers),
        "unclosed_workflows": len(audit.unclosed),
        "campaign_closed": run.closed,
        "api_final_status": audit.final_status,
        "true_result": audit.expected_state,
        "makespan_s": run.makespan_s,
        "baseline_makespan_s": baseline.makespan_s,
        "makespan_penalty": round(run.makespan_s / baseline.makespan_s, 2)
        if baseline.closed
        else None,
        "server_crashes": run.server_crashes,
        "kills_held_for_last_attempts": len(run.spared),
        "worker_exits_on_its_own": len(run.unplanned_exits),
        "api_answers": len(run.answers),
        "api_answers_without_worker": sum(not a.worker_up for a in run.answers),
        "outcomes": {
            true: dict(reports) for true, reports in sorted(audit.outcome_table().items())
        },
        "hosts": args.hosts,
        "clusters": args.clusters,
        "global_cap": args.global_cap,
        "time_scale": args.time_scale,
        "seed": seed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--clusters", type=int, default=8)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=random.randrange(1_000_000))
    parser.add_argument("--time-scale", type=float, default=0.03)
    parser.add_argument("--global-cap", type=int, default=8)
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per campaign")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--scratch-dir", type=Path, default=default_scratch_dir())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crash-campaign-", dir=args.scratch_dir) as tmp:
        log(f"{args.hosts} hosts in {args.clusters} clusters; seed {args.seed}")
        if args.skip_baseline:
            baseline = ChaosRun(0, "-")
        else:
            baseline, _ = asyncio.run(one_campaign(args, KillSchedule(0, 0), Path(tmp, "base")))
            log(f"baseline (no kills): {baseline.makespan_s:.0f} s, closed={baseline.closed}")
        schedule = KillSchedule(args.seed, args.kills)
        run, audit = asyncio.run(one_campaign(args, schedule, Path(tmp, "chaos")))
        log(summary(run, audit))
        log(f"kills:\n{kill_log(run)}")
        for problem in audit.problems():
            log(f"PROBLEM {problem}")
    print(json.dumps(result(args, args.seed, baseline, run, audit)))


if __name__ == "__main__":
    main()
