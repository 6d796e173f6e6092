"""Observability of a real campaign, end to end: started through the real API with tracing
on, run by the production workers on the lab's iDRAC simulator and vcsim.

- One trace links the API's request span, the campaign, cluster and host workflows, their
  activities, a Redfish HTTP request to the iDRAC and a vCenter operation; the same spans
  reach a real OTLP/HTTP receiver (the exporter the settings switch on).
- The API's /metrics counts what the campaign really did (host outcome, time in
  maintenance mode), and a campaign waiting for its maintenance window shows on the
  waiting-rollouts gauge under that reason.

Tracing is process-wide (one tracer provider): this module installs an in-memory one
first, which the settings' OTLP exporter joins, and detaches both when it ends.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.campaign_status import FINAL
from api.security import hash_password
from common.settings import Settings
from common.temporal import connect
from domain.wait_reasons import WaitCategory
from tests.integration.api.conftest import _ensure_namespace, serve
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from tests.services.otlp import Collector, otlp_collector
from workers.main import running_workers

NAMESPACE = "campaign-observability"
PASSWORD = "observe-Admin-Pass-4711"
TAG = "BLAB001"  # bravo: no HA reservation, so one host may always go
POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 1,
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}
CAMPAIGN_GUARD_S = 300  # a hang guard, not a timing assertion
SAMPLE = re.compile(r"^(?P<key>[a-z_]+(?:\{[^}]*\})?) (?P<value>\S+)$", re.M)


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process ends, kept in memory (the provider the settings then join)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # later spans of this process go nowhere


@pytest.fixture(scope="module")
def collector(spans: InMemorySpanExporter) -> Iterator[Collector]:
    with otlp_collector() as server:
        yield server
        HTTPXClientInstrumentor().uninstrument()  # installed by the settings' tracing
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        provider.shutdown()  # the OTLP exporter flushes to its receiver, then stops


@pytest.fixture(scope="module")
def settings(lab: Lab, temporal_env: WorkflowEnvironment, collector: Collector) -> Settings:
    return lab.settings.model_copy(
        update={
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "temporal_namespace": NAMESPACE,
            "breakglass_username": "breakglass",
            "breakglass_password_hash": SecretStr(hash_password(PASSWORD)),
            "otel_exporter_otlp_endpoint": collector.url,
        }
    )


@pytest_asyncio.fixture(scope="module")
async def workers(
    lab: Lab, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    await _ensure_namespace(temporal_env.client, NAMESPACE)
    async with running_workers(await connect(settings), lab.resources):
        yield


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[httpx.AsyncClient]:
    with serve(settings) as url:
        login = httpx.post(
            f"{url}/auth/login", json={"username": "breakglass", "password": PASSWORD}
        )
        token = login.raise_for_status().json()["access_token"]
        yield httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


async def _start(api: httpx.AsyncClient, lab: Lab, name: str, **spec: Any) -> int:
    body = lab.bios_spec({"service_tags": [TAG]}, BIOS_TARGET, policy=POLICY, **spec)
    created = await api.post(
        "/campaigns", json={"name": name, "spec": body.model_dump(mode="json")}
    )
    campaign_id: int = created.raise_for_status().json()["id"]
    (await api.post(f"/campaigns/{campaign_id}/start")).raise_for_status()
    return campaign_id


async def _finished(api: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + CAMPAIGN_GUARD_S
    while (detail := (await api.get(f"/campaigns/{campaign_id}")).json())["status"] not in FINAL:
        assert time.monotonic() < deadline, f"campaign {campaign_id} never ended"
        await asyncio.sleep(0.5)
    return detail


async def _scrape(api: httpx.AsyncClient) -> dict[str, float]:
    text = (await api.get("/metrics")).text
    return {m["key"]: float(m["value"]) for m in SAMPLE.finditer(text)}


def _trace_of(spans: list[ReadableSpan], campaign_id: int) -> list[ReadableSpan]:
    """The spans of the trace of the API's ``POST /campaigns/{id}/start`` request (which
    continues the caller's, here the test's instrumented httpx client's)."""
    (request,) = [
        s
        for s in spans
        if s.kind == trace.SpanKind.SERVER
        and s.name == "POST /campaigns/{campaign_id}/start"
        and (s.attributes or {}).get("http.target", (s.attributes or {}).get("url.path"))
        == f"/campaigns/{campaign_id}/start"
    ]
    assert request.context is not None
    return [
        s for s in spans if s.context is not None and s.context.trace_id == request.context.trace_id
    ]


@pytest.mark.usefixtures("workers")
async def test_one_trace_from_the_api_to_redfish_and_vcenter_and_metrics_that_match(
    api: httpx.AsyncClient, lab: Lab, spans: InMemorySpanExporter, collector: Collector
) -> None:
    before = await _scrape(api)
    campaign_id = await _start(api, lab, "traced")
    detail = await _finished(api, campaign_id)
    (row,) = (await api.get(f"/campaigns/{campaign_id}/hosts")).json()["items"]
    assert (detail["status"], row["status"]) == ("completed", "updated"), (detail, row)

    finished = list(spans.get_finished_spans())
    assert not [s for s in finished if s.name == "GET /metrics"]  # scrapes are not traced
    traced = _trace_of(finished, campaign_id)
    names = {s.name for s in traced}
    for name in (
        "StartWorkflow:CampaignWorkflow",
        "RunWorkflow:CampaignWorkflow",
        "RunWorkflow:ClusterRolloutWorkflow",
        "RunWorkflow:HostUpdateWorkflow",
        "RunActivity:stage_firmware",
        "RunActivity:enter_maintenance",
        "vCenter enter maintenance",
        "vCenter exit maintenance",
    ):
        assert name in names, sorted(names)
    by_id = {s.context.span_id: s for s in traced if s.context is not None}
    idrac = next(h.idrac_address for _, _, h in lab.fleet.hosts() if h.service_tag == TAG)
    redfish = [
        s
        for s in traced
        if s.kind == trace.SpanKind.CLIENT
        and idrac in str((s.attributes or {}).get("url.full", (s.attributes or {}).get("http.url")))
    ]
    assert redfish, "no Redfish HTTP span in the campaign's trace"
    # ... each one inside a Redfish activity, and each vCenter span inside a vCenter one.
    assert all(_activity_of(s, by_id) in REDFISH_ACTIVITIES for s in redfish)
    vcenter = [s for s in traced if s.name.startswith("vCenter ")]
    assert all(_activity_of(s, by_id) in VCENTER_ACTIVITIES for s in vcenter)
    enter = next(s for s in vcenter if s.name == "vCenter enter maintenance")
    assert (enter.attributes or {})["vcenter.target"].startswith("esx-bravo-1")

    # The same spans left through the OTLP exporter the settings switched on.
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.force_flush()
    exported = {s.name for s in collector.spans}
    assert {"POST /campaigns/{campaign_id}/start", "vCenter enter maintenance"} <= exported

    # /metrics counts what the campaign did, as its host row says.
    after = await _scrape(api)

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta('idrac_orch_host_updates_total{status="updated"}') == 1
    assert delta('idrac_orch_host_updates_total{status="failed"}') == 0
    assert delta("idrac_orch_hosts_held") == 0
    assert delta("idrac_orch_host_maintenance_seconds_count") == 1
    spent = delta("idrac_orch_host_maintenance_seconds_sum")
    runbook = datetime.fromisoformat(row["finished_at"]) - datetime.fromisoformat(row["started_at"])
    assert 0 < spent <= runbook.total_seconds()
    assert delta('idrac_orch_campaigns{status="completed"}') == 1


REDFISH_ACTIVITIES = {
    "RunActivity:idrac_preflight",
    "RunActivity:stage_firmware",
    "RunActivity:reboot_host",
    "RunActivity:verify_firmware",
    "RunActivity:read_firmware",
    "RunActivity:idrac_health",
}
VCENTER_ACTIVITIES = {
    "RunActivity:vcenter_preflight",
    "RunActivity:enter_maintenance",
    "RunActivity:exit_maintenance",
    "RunActivity:wait_host_reconnected",
    "RunActivity:return_vms",
    "RunActivity:cluster_capacity",
}


def _activity_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str | None:
    """The nearest activity span above ``span``."""
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        found = by_id[parent.span_id]
        if found.name.startswith("RunActivity:"):
            return found.name
        parent = found.parent
    return None


@pytest.mark.usefixtures("workers")
async def test_a_campaign_outside_its_window_counts_as_waiting_for_it(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    opens = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    window = {
        "kind": "once",
        "timezone": "UTC",
        "starts_at": opens.isoformat(),
        "ends_at": (opens + timedelta(hours=6)).isoformat(),
    }
    campaign_id = await _start(api, lab, "waits", windows=[window])
    key = f'idrac_orch_rollouts_waiting{{reason="{WaitCategory.WINDOW}"}}'
    deadline = time.monotonic() + 60
    while (await _scrape(api)).get(key, 0) < 1:
        assert time.monotonic() < deadline, "the waiting rollout never showed on /metrics"
        await asyncio.sleep(0.5)
    aborted = await api.post(f"/campaigns/{campaign_id}/abort", json={"reason": "test over"})
    aborted.raise_for_status()
    assert (await _finished(api, campaign_id))["status"] == "aborted"
    assert (await _scrape(api))[key] == 0
