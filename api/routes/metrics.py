"""Prometheus scrape endpoint (unauthenticated, like /healthz: no inventory data in it)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.rollout_waits import waiting_rollouts

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    app_metrics = request.app.state.metrics
    app_metrics.show_waiting(await waiting_rollouts(request.app.state.orch))
    # The campaign collector reads the store: off the event loop.
    body = await anyio.to_thread.run_sync(generate_latest, app_metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
