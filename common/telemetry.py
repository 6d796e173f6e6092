"""Temporal observability, off unless configured: the SDK's own metrics on a Prometheus
endpoint, and OpenTelemetry traces that follow a request from the API's HTTP handling
through the client that starts a workflow, its activities, into their Redfish HTTP calls
and vCenter operations (integrations/vcenter/tracing.py).

Both are process-wide (one metrics endpoint, one tracer provider), hence set up once per
process whatever the number of clients.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from temporalio.client import Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from common.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

# Probes and scrapes: a span every few seconds that says nothing.
UNTRACED_PATHS = "/healthz$,/metrics$"


def temporal_runtime(settings: Settings) -> Runtime | None:
    if settings.temporal_metrics_address is None:
        return None
    return _prometheus_runtime(settings.temporal_metrics_address)


@functools.cache
def _prometheus_runtime(address: str) -> Runtime:
    metrics = PrometheusConfig(bind_address=address, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


def tracing_interceptors(settings: Settings) -> list[Interceptor]:
    """The SDK's tracing interceptor; a client's interceptors also serve its workers."""
    if not _tracing(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument_api(app: FastAPI, settings: Settings) -> None:
    """A server span per request, current while a route starts a workflow: the client's
    tracing interceptor makes the workflow's spans children of the request's."""
    if not _tracing(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS)


def _tracing(settings: Settings) -> bool:
    """Whether traces are exported; when so, the process's tracer provider is set up."""
    if settings.otel_exporter_otlp_endpoint is None:
        return False
    _install_tracing(settings.otel_exporter_otlp_endpoint.rstrip("/"), settings.otel_service_name)
    return True


@functools.cache
def _install_tracing(endpoint: str, service_name: str) -> None:
    # Imported here: processes without tracing never load the exporter stack.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = BatchSpanProcessor(OTLPSpanExporter(f"{endpoint}/v1/traces"))
    installed = trace.get_tracer_provider()
    if isinstance(installed, TracerProvider):
        # Already set up by the host process (`opentelemetry-instrument`, a test): export
        # its spans too; a second provider would be refused by the API anyway.
        installed.add_span_processor(exporter)
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        provider.add_span_processor(exporter)
        trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()  # Redfish calls become children of activity spans
