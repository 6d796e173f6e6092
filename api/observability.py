"""Request ids bound into every log line, and Prometheus request metrics, as ASGI middleware."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.wait_reasons import WaitCategory


class Metrics:
    """Per-app registry, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "idrac_orch_http_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "idrac_orch_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.waiting = Gauge(
            "idrac_orch_rollouts_waiting",
            "Campaign and cluster rollouts waiting now, by category of reason "
            "(domain/wait_reasons.py); asked of the running workflows at each scrape.",
            ["reason"],
            registry=self.registry,
        )

    def show_waiting(self, waits: Mapping[WaitCategory, int]) -> None:
        """Every category, zero included: a series that vanishes reads as 'no data'."""
        for category in WaitCategory:
            self.waiting.labels(category.value).set(waits.get(category, 0))


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] or uuid.uuid4().hex
        status_code, started = 500, time.perf_counter()

        async def with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, method=scope["method"], path=scope["path"]
        ):
            try:
                await self.app(scope, receive, with_request_id)
            finally:
                route = getattr(scope.get("route"), "path", "(unmatched)")
                self.metrics.requests.labels(scope["method"], route, str(status_code)).inc()
                self.metrics.latency.labels(scope["method"], route).observe(
                    time.perf_counter() - started
                )
