"""The FastAPI application: one engine and one Temporal client for its lifetime."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api import errors, openapi
from api.idempotency import IdempotencyMiddleware
from api.routes import action, application, health, review, sla, template, user
from api.routes import candidate as candidate_routes
from api.routes import checklist_sync as checklist_sync_routes
from api.routes import event as event_routes
from api.routes import induction as induction_routes
from api.routes import outcome as outcome_routes
from api.routes import outcome_release as outcome_release_routes
from api.routes import report as report_routes
from core.db import make_engine
from core.settings import Settings, get_settings
from core.temporal import connect

DESCRIPTION = """Assessment and review casework as durable Temporal workflows.

Every endpoint but `/healthz`, `/readyz` and the docs needs a bearer token
(`python cli.py token --sub ID --role ROLE`). Errors are RFC 9457 problem JSON.
"""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """Build the app; tests pass their own engine and client."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned_engine = engine is None
        if engine is None and not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (make run sets it for you)")
        app.state.settings = settings
        app.state.engine = engine or make_engine(settings.database_url or "")
        app.state.temporal = temporal or await connect(settings, lazy=True)
        yield
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
    app.add_middleware(IdempotencyMiddleware)
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
    )
    for router in routers:
        app.include_router(router)
    openapi.install(app)
    return app


app = create_app()
