"""The FastAPI application: migrations at start, one engine, one Temporal client."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.audit import AuditMiddleware
from api.body_limit import BodyLimitMiddleware
from api.campaign_metrics import CampaignCollector
from api.client_address import ForwardedForMiddleware
from api.observability import Metrics, ObservabilityMiddleware
from api.routes import (
    audit,
    auth,
    baseline_packages,
    baselines,
    campaigns,
    catalogs,
    clusters,
    codec,
    compliance,
    credentials,
    datacenters,
    discovery,
    enrollments,
    health,
    inventory,
    metrics,
    notify_channels,
    notify_rules,
    onboarding,
    package_match,
    packages,
    remediation,
    servers,
    vcenter_sync,
    vcenters,
    windows,
)
from api.state import AppState
from common.logging import configure_logging, get_logger
from common.settings import Settings, get_settings
from common.telemetry import instrument_api
from console import install_console
from store.audit import seal_unkeyed_head
from store.db import make_engine
from store.migrate import upgrade
from store.server_reads import AsyncReadPool

log = get_logger(__name__)
ROUTERS = (
    health,
    metrics,
    auth,
    datacenters,
    vcenters,
    clusters,
    servers,
    credentials,
    packages,
    catalogs,
    windows,
    campaigns,
    audit,
    codec,
    discovery,
    enrollments,
    onboarding,
    vcenter_sync,
    inventory,
    baselines,
    compliance,
    remediation,
    baseline_packages,
    package_match,
    notify_channels,
    notify_rules,
)


def create_app_from_environment() -> FastAPI:
    """What each of uvicorn's worker processes builds: settings and logging from the
    environment, as the parent process had them."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.effective_database_url
        upgrade(url)
        engine = make_engine(url)
        app.state.orch = AppState.build(settings, engine)
        seal_unkeyed_head(engine, app.state.orch.audit_keys)
        app.state.orch.reads = AsyncReadPool.for_url(url)
        campaign_metrics = CampaignCollector(engine)
        app.state.metrics.registry.register(campaign_metrics)
        log.info("api started", database=engine.url.render_as_string(hide_password=True))
        # What start-up loaded (FastAPI, pydantic schemas, SQLAlchemy metadata, ~180,000
        # objects) lives as long as the process: keep it out of the cyclic collector's full
        # passes, each of which otherwise stopped every request for ~70 ms.
        gc.freeze()
        yield
        gc.unfreeze()
        app.state.metrics.registry.unregister(campaign_metrics)
        if app.state.orch.reads is not None:
            await app.state.orch.reads.close()
        engine.dispose()

    app = FastAPI(
        title="iDRAC Updater Orchestrator",
        version="0.1.0",
        summary="Rolling Dell firmware campaigns across VMware ESXi clusters.",
        lifespan=lifespan,
    )
    app.state.metrics = Metrics()
    for module in ROUTERS:
        app.include_router(module.router)
    install_console(app)  # /ui: the operator console
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(psycopg.DataError, _unstorable_value)  # the async read path
    app.add_exception_handler(UnicodeEncodeError, _not_unicode)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Added innermost first: the caller's address is settled before anything else; the
    # request id and metrics wrap the audit, which wraps the body limit (so refused bodies
    # are audited too), which wraps routing and parsing.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    app.add_middleware(ForwardedForMiddleware, trusted_proxies=settings.trusted_proxies)
    instrument_api(app, settings)
    return app


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 without the offending input echoed back: it may be a password."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key not in ("input", "ctx", "url")}
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=jsonable_encoder({"detail": errors}),
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer, except that a 405 lists every method of the path in ``Allow``
    (Starlette names only those of the first route that matched the path)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        allowed = [
            method
            for method in _METHODS
            if any(
                route.matches({**request.scope, "method": method})[0] == Match.FULL
                for route in request.app.router.routes
            )
        ]
        exc = StarletteHTTPException(exc.status_code, exc.detail, {"Allow": ", ".join(allowed)})
    return await http_exception_handler(request, exc)


def _body_error(message: str) -> JSONResponse:
    """A 422 about some value of the body, in FastAPI's shape, naming no value."""
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]},
    )


async def _not_unicode(_: Request, __: Exception) -> JSONResponse:
    """JSON may escape a lone UTF-16 surrogate ("\\ud800"); Python decodes it into a string
    that nothing can encode (a password once gave a 500 in the secret box). The client's
    fault, whichever value it was in; which one is not said, since it may be a secret."""
    return _body_error("a text value is not valid Unicode (a lone surrogate, \\ud800-\\udfff)")


async def _unstorable_value(_: Request, __: Exception) -> JSONResponse:
    """A value the database cannot hold (e.g. a NUL character in text): the client's fault."""
    return _body_error("a value cannot be stored (NUL character or out of range)")
