"""Liveness and dependency reachability, for load balancers and `idrac-orch dev`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from api.deps import StateDep
from store.db import ping

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 5.0


class DependencyCheck(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, DependencyCheck]


async def _timed(check: Callable[[], Awaitable[object]]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
    except Exception as exc:
        # The type and message only: URLs with credentials never reach this text.
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] or type(exc).__name__
        return DependencyCheck(ok=False, latency_ms=_ms(started), error=error)
    return DependencyCheck(ok=True, latency_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "a dependency is unreachable"}},
)
async def healthz(state: StateDep, response: Response) -> Health:
    async def database() -> None:
        await asyncio.to_thread(ping, state.engine)

    async def temporal() -> None:
        client = await state.temporal_client()
        await client.service_client.check_health()

    checks = {"database": await _timed(database), "temporal": await _timed(temporal)}
    healthy = all(check.ok for check in checks.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "degraded", checks=checks)
