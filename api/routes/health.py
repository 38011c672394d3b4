"""Liveness and readiness (no token needed)."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, TemporalDep
from api.errors import RETRY_LATER, problem
from api.routing import ReadRoute
from core.db import ping

router = APIRouter(tags=["health"], route_class=ReadRoute)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(engine: EngineDep, temporal: TemporalDep) -> dict[str, str] | JSONResponse:
    """200 when PostgreSQL and Temporal answer, else 503 naming what is down, with Retry-After."""
    down: list[str] = []
    try:
        await asyncio.wait_for(run_in_threadpool(ping, engine), timeout=3)
    except Exception:
        down.append("postgresql")
    try:
        await asyncio.wait_for(temporal.service_client.check_health(), timeout=3)
    except Exception:
        down.append("temporal")
    if down:
        return problem(503, f"not ready: {', '.join(down)} did not answer", headers=RETRY_LATER)
    return {"status": "ready"}
