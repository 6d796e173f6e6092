"""The FastAPI application: migrations at start, one engine, one Temporal client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response

from api.routes import health
from api.state import AppState
from common.logging import get_logger
from common.settings import Settings, get_settings
from store.db import make_engine
from store.migrate import upgrade

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.effective_database_url
        upgrade(url)
        engine = make_engine(url)
        app.state.orch = AppState(settings=settings, engine=engine)
        log.info("api started", database=engine.url.render_as_string(hide_password=True))
        yield
        engine.dispose()

    app = FastAPI(
        title="iDRAC Updater Orchestrator",
        version="0.1.0",
        summary="Rolling Dell firmware campaigns across VMware ESXi clusters.",
        lifespan=lifespan,
    )
    app.middleware("http")(_bind_request_context)
    app.include_router(health.router)
    return app


async def _bind_request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(
        request_id=request_id, method=request.method, path=request.url.path
    ):
        response = await call_next(request)
    response.headers["x-request-id"] = request_id
    return response
