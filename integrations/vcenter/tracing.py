"""OpenTelemetry spans around the vCenter operations a runbook step makes.

pyvmomi speaks SOAP over its own HTTP stack, which no OpenTelemetry instrumentation
covers: without these spans a vCenter step is one opaque activity span. Only the
OpenTelemetry API is used, so with tracing off every span is a no-op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from opentelemetry import trace

from integrations.vcenter.client import VCenterClient, parse_url

P = ParamSpec("P")
R = TypeVar("R")

Call = Callable[Concatenate[VCenterClient, P], R]

_tracer = trace.get_tracer(__name__)


def traced(operation: str) -> Callable[[Call[P, R]], Call[P, R]]:
    """A span ``vCenter <operation>`` around a call taking the client first: the host or
    cluster it is about (``vcenter.target``) and the SOAP round trips it cost."""

    def wrap(call: Call[P, R]) -> Call[P, R]:
        @functools.wraps(call)
        def traced_call(client: VCenterClient, *args: P.args, **kwargs: P.kwargs) -> R:
            named = (*args[:1], kwargs.get("host"), kwargs.get("cluster"))
            target = next((n for n in named if isinstance(n, str) and n), None)
            attributes = {"server.address": parse_url(client.settings.url)[0]}
            if target is not None:
                attributes["vcenter.target"] = target
            before = client.round_trips
            with _tracer.start_as_current_span(
                f"vCenter {operation}", kind=trace.SpanKind.CLIENT, attributes=attributes
            ) as span:
                try:
                    return call(client, *args, **kwargs)
                finally:
                    span.set_attribute("vcenter.round_trips", client.round_trips - before)

        return traced_call

    return wrap
