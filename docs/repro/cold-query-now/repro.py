"""A cold worker answers a legacy query whose history holds an undelivered signal.

sdk-core runs the signal on the stale workflow time of the previous workflow task, keeps
the result in its cache, and sends those commands with the next real workflow task; every
replay runs the signal at the later WorkflowTaskStarted time and takes the other branch.

usage: python repro.py [RUNS] [--no-query] [--no-cache]   (TEMPORAL_ADDRESS, default
127.0.0.1:7233). One line per run, then a summary. Worker A runs in a child process that is
killed with SIGKILL, as in production: no ShutdownWorker call, so the server keeps the run's
sticky queue. A query and the signal's workflow task both wait there for A's sticky
schedule-to-start timeout (STICKY); the query, sent first, falls back to the normal queue
first, and worker B answers it from a history that already holds the signal.
"""

import asyncio
import os
import signal
import sys
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

SCRIPT = os.path.abspath(__file__)
ADDRESS = os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
THRESHOLD = timedelta(seconds=2)
STICKY = timedelta(seconds=5)  # worker A's sticky_queue_schedule_to_start_timeout


@workflow.defn
class ElapsedProbe:
    def __init__(self) -> None:
        self.go = False
        self.elapsed: float | None = None

    @workflow.signal
    def go_signal(self) -> None:
        self.go = True

    @workflow.query
    def state(self) -> float | None:
        return self.elapsed

    @workflow.run
    async def run(self) -> str:
        t1 = workflow.now()
        await workflow.wait_condition(lambda: self.go)
        elapsed = workflow.now() - t1
        self.elapsed = elapsed.total_seconds()
        if elapsed >= THRESHOLD:
            return f"stale {self.elapsed:.3f}s"  # CompleteWorkflowExecution
        # Not terminal on purpose: a run that completes inside the query is evicted anyway.
        await workflow.sleep(timedelta(milliseconds=10))  # StartTimer
        return f"fresh {self.elapsed:.3f}s"


async def worker_a(task_queue: str) -> None:
    client = await Client.connect(ADDRESS)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[ElapsedProbe],
        sticky_queue_schedule_to_start_timeout=STICKY,
    )
    async with worker:
        print("ready", flush=True)
        await asyncio.Event().wait()


async def one_run(client: Client, query: bool, cache: int) -> bool:
    tq = f"cold-query-{uuid.uuid4().hex[:8]}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, SCRIPT, "worker-a", tq, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and (await proc.stdout.readline()).strip() == b"ready"
    handle = await client.start_workflow(ElapsedProbe.run, id=tq, task_queue=tq)
    await handle.query(ElapsedProbe.state)  # answered by A: first workflow task done, t1 set
    proc.send_signal(signal.SIGKILL)  # no ShutdownWorker: the server keeps A's sticky queue
    await proc.wait()
    # No workflow task is pending, so the server dispatches the query directly (sticky queue
    # first). A query task's history is read when a worker finally polls it.
    pending = None
    if query:
        pending = asyncio.create_task(
            handle.query(ElapsedProbe.state, rpc_timeout=timedelta(seconds=60))
        )
        await asyncio.sleep(0.5)
    await handle.signal(ElapsedProbe.go_signal)  # Signaled + WorkflowTaskScheduled (sticky)
    async with Worker(client, task_queue=tq, workflows=[ElapsedProbe], max_cached_workflows=cache):
        answer = await pending if pending else None
        live = await handle.result()
    history = await handle.fetch_history()
    replay = await Replayer(workflows=[ElapsedProbe]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    failed = replay.replay_failure is not None
    verdict = f"REPLAY FAILS: {str(replay.replay_failure)[:90]}" if failed else "replay ok"
    print(f"{tq}: live={live!r} query_answer={answer!r} {verdict}", flush=True)
    return failed


async def main() -> None:
    args = sys.argv[1:]
    runs = int(next((a for a in args if a.isdigit()), "1"))
    cache = 0 if "--no-cache" in args else 1000
    client = await Client.connect(ADDRESS)
    results = [await one_run(client, "--no-query" not in args, cache) for _ in range(runs)]
    print(f"{sum(results)} of {runs} runs diverged from their own history")


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker-a"]:
        asyncio.run(worker_a(sys.argv[2]))
    else:
        asyncio.run(main())
