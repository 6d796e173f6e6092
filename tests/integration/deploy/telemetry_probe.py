"""Runs in a process of its own (tracing and the metrics endpoint are process-wide): a
workflow whose activity makes an HTTP call, through a client built by common.temporal
from IDRAC_ORCH_* settings; prints the Temporal SDK metric names it then serves."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta

import httpx
from opentelemetry import trace
from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from common.settings import Settings
from common.temporal import connect


@activity.defn
async def fetch(url: str) -> int:
    """Stands in for a Redfish call: an httpx request inside an activity."""
    async with httpx.AsyncClient() as client:
        return (await client.get(url)).status_code


@workflow.defn
class ProbeWorkflow:
    @workflow.run
    async def run(self, url: str) -> int:
        return await workflow.execute_activity(
            fetch, url, start_to_close_timeout=timedelta(seconds=30)
        )


async def main(http_url: str) -> None:
    settings = Settings()
    client = await connect(settings)
    queue = f"probe-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[fetch],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        status = await client.execute_workflow(
            ProbeWorkflow.run, http_url, id=queue, task_queue=queue
        )
    async with httpx.AsyncClient() as http:
        scrape = (await http.get(f"http://{settings.temporal_metrics_address}/metrics")).text
    names = sorted(
        {line.split("{")[0].split(" ")[0] for line in scrape.splitlines() if line[:1].isalpha()}
    )
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    print(json.dumps({"status": status, "metrics": names}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
