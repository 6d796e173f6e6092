"""Traces and Temporal SDK metrics, switched on by settings, seen by real receivers: an
OTLP/HTTP endpoint on loopback collects the spans, the SDK's Prometheus endpoint is
scraped, and the Grafana dashboard only charts metrics that really exist."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.services.otlp import Collector, otlp_collector
from tests.services.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy" / "grafana" / "idrac-orch.json"
FAILURE_ONLY = {"temporal_workflow_failed", "temporal_activity_execution_failed"}


@pytest.fixture
def collector() -> Iterator[Collector]:
    with otlp_collector() as server:
        yield server


def test_traces_and_sdk_metrics_when_configured(
    collector: Collector, temporal_env: WorkflowEnvironment
) -> None:
    metrics = f"127.0.0.1:{free_port()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IDRAC_ORCH_")},
        "IDRAC_ORCH_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "IDRAC_ORCH_SECRET_KEY": "telemetry-test-key",
        "IDRAC_ORCH_OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "IDRAC_ORCH_TEMPORAL_METRICS_ADDRESS": metrics,
    }
    probe = subprocess.run(
        [sys.executable, "-m", "tests.integration.deploy.telemetry_probe", f"{collector.url}/page"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["status"] == 200

    # One trace from the client's start through the workflow and activity to the HTTP call.
    names = {span.name: span for span in collector.spans}
    for name in (
        "StartWorkflow:ProbeWorkflow",
        "RunWorkflow:ProbeWorkflow",
        "StartActivity:fetch",
        "RunActivity:fetch",
        "GET",
    ):
        assert name in names, sorted(names)
    assert len({span.trace_id for span in collector.spans if span.name != "GET"}) == 1
    # ... and the activity's HTTP call (a Redfish request, in the service) is its child.
    activity = names["RunActivity:fetch"]
    calls = [s for s in collector.spans if s.name == "GET" and s.parent_span_id == activity.span_id]
    assert len(calls) == 1 and calls[0].trace_id == activity.trace_id

    # The SDK's metrics are served, and every one the dashboard charts is among them
    # (failure counters appear only after a first failure, which this run has none of).
    served = set(result["metrics"]) | FAILURE_ONLY
    assert {"temporal_workflow_completed", "temporal_activity_execution_latency_bucket"} <= served
    charted = set(re.findall(r"\b(temporal_[a-z_]+)", DASHBOARD.read_text()))
    assert charted and charted <= served, charted - served
