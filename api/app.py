"""The FastAPI application: one engine and one Temporal client for its lifetime."""

import asyncio
import asyncio.base_events
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.client import Client

from api import errors, idempotency, metrics, openapi
from api.boundary import BoundaryMiddleware
from api.routes import action, application, health, review, sla, template, user
from api.routes import candidate as candidate_routes
from api.routes import checklist_sync as checklist_sync_routes
from api.routes import event as event_routes
from api.routes import induction as induction_routes
from api.routes import outcome as outcome_routes
from api.routes import outcome_release as outcome_release_routes
from api.routes import report as report_routes
from api.routes import webhook as webhook_routes
from core.auth import token_reader
from core.db import make_engine
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.telemetry import start_tracing, temporal_tracing, trace_app, trace_engines
from core.temporal import connect

log = logging.getLogger("casework.api")

DESCRIPTION = """Assessment and review casework as durable Temporal workflows.

Every endpoint but `/healthz`, `/readyz` and the docs needs a bearer token
(`python cli.py token --sub ID --role ROLE`). Errors are RFC 9457 problem JSON.
"""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    temporal: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the app; tests pass their own engine, client and tracer provider."""
    settings = settings or get_settings()
    tracing = tracer_provider or start_tracing(settings, process="api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned_engine = engine is None
        if owned_engine:  # a served app (tests bring their engine and keep pytest's logging)
            configure_logging(settings, process="api")
        if engine is None and not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (make run sets it for you)")
        no_delay_on_accepted_sockets()
        app.state.settings = settings
        app.state.read_token = token_reader(settings)
        app.state.engine = engine or make_engine(settings.database_url or "")
        # Keyed requests hold a connection while they run: a pool of their own, so they
        # queue for it instead of starving the routes' sessions.
        app.state.idempotency_engine = make_engine(
            app.state.engine.url.render_as_string(hide_password=False), pool_size=16
        )
        if tracing is not None:
            trace_engines(tracing, app.state.engine, app.state.idempotency_engine)
        app.state.temporal = temporal or await connect(
            settings, lazy=True, interceptors=temporal_tracing(tracing)
        )
        purging = asyncio.create_task(_purge_expired_keys(app.state.idempotency_engine))
        yield
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging
        app.state.idempotency_engine.dispose()
        if owned_engine:
            app.state.engine.dispose()

    app = FastAPI(
        title="Casework",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(BoundaryMiddleware)
    metrics.install(app)  # outside the boundary: a refused request is counted too
    routers = (
        health.router,
        user.router,
        template.router,
        application.router,
        review.router,
        action.router,
        sla.router,
        checklist_sync_routes.router,
        induction_routes.router,
        candidate_routes.router,
        outcome_routes.router,
        outcome_release_routes.router,
        event_routes.router,
        report_routes.router,
        webhook_routes.router,
    )
    for router in routers:
        app.include_router(router)
    openapi.install(app)
    if tracing is not None:
        trace_app(app, tracing)
    return app


def no_delay_on_accepted_sockets() -> None:
    """Answers leave at once (TCP_NODELAY) on every connection the server accepts.

    asyncio sets TCP_NODELAY only on sockets whose `proto` is IPPROTO_TCP; uvicorn's
    `--workers` (API_WORKERS > 1) binds its socket with `proto` 0, so each worker's
    connections kept Nagle's algorithm: the body of an answer, written after its headers,
    waited for the client's delayed ACK, ≈ 40 ms on every keep-alive request
    (bench/RESULTS.md, "API per-request cost", round 2). Idempotent.
    """

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in {socket.AF_INET, socket.AF_INET6} and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    asyncio.base_events._set_nodelay = set_nodelay  # type: ignore[attr-defined]


async def _purge_expired_keys(engine: Engine, every_s: float = 600) -> None:
    """Forget expired Idempotency-Key answers every few minutes, for the app's lifetime."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(idempotency.purge, engine, now=datetime.now(UTC))
        except Exception:  # the database may be down for a while; try again later
            log.warning("could not purge expired idempotency keys", exc_info=True)


app = create_app()
