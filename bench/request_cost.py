"""The API's fixed cost of one JSON request, against a bare FastAPI route doing the same SQL.

Starts an embedded PostgreSQL (no Temporal: the app's client is lazy and never dials), puts a
few pending outcomes in it, then sends N sequential `GET /v1/outcome-releases/pending` through
`httpx.ASGITransport`:

- to the whole app (token, boundary, idempotency guard, metrics, access log, the route);
- to a bare FastAPI app whose one route runs the same statement on a session of the same
  engine and returns its rows as JSON: the floor;

and prints the mean µs per request of each, their ratio, and then a cProfile of the whole
app's requests: the µs per request spent under each layer (cumulative, so nested layers
overlap) and the top functions by their own time.

    .venv/bin/python bench/request_cost.py [N]   (default 500)
"""

import asyncio
import cProfile
import io
import logging
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlmodel import Session

from api.app import create_app
from api.pagination import DEFAULT_LIMIT
from api.services.outcome_release import PendingFilters, pending
from core.auth import mint_token
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.settings import Settings
from domain.access import Principal, Role

SECRET = "bench-secret-that-is-long-enough-for-hs256!"
PATH = "/v1/outcome-releases/pending"
# (label, substring of the profiled function's "file:line(name)")
LAYERS = (
    ("metrics middleware", "metrics.py", "__call__"),
    ("boundary middleware", "boundary.py", "__call__"),
    ("  token verification", "boundary.py", "_verified"),
    ("  access log", "boundary.py", "_log_request"),
    ("idempotency guard", "idempotency.py", "guard"),
    ("FastAPI routing + deps", "fastapi/routing.py", "app"),
    ("route: pending()", "services/outcome_release.py", "pending"),
    ("SQL execute", "sqlalchemy/engine/base.py", "_execute_context"),
    ("JSON answer", "starlette/responses.py", "render"),
)


def floor_app(engine: Engine, sql: str, params: dict[str, Any]) -> FastAPI:
    """A bare FastAPI app: one route, one session, the same statement, its rows as JSON."""
    app = FastAPI()

    @app.get(PATH)
    def pending() -> dict[str, Any]:
        with Session(engine) as session:
            rows = session.connection().exec_driver_sql(sql, params).all()
        return {"items": [{"n": len(row)} for row in rows], "next_cursor": None}

    return app


def routes_only(app: FastAPI, principal: Principal) -> Any:
    """The app's router with the caller already verified: routing, dependencies, the route
    and its answer, without any middleware (boundary, metrics, error handlers)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["app"] = app
            scope.setdefault("state", {})["principal"] = principal
            async with AsyncExitStack() as stack:  # what FastAPI's own middleware provides
                scope["fastapi_middleware_astack"] = stack
                await app.router(scope, receive, send)
            return
        await app.router(scope, receive, send)

    return asgi


def service_us(engine: Engine, n: int) -> float:
    """Mean µs of the route's own work called directly: `pending()` on a fresh session,
    its page dumped to JSON (no HTTP, no FastAPI)."""
    began = time.perf_counter()
    for _ in range(n):
        with Session(engine) as session:
            page = pending(session, PendingFilters(), limit=DEFAULT_LIMIT, cursor=None)
            page.model_dump_json()
    return (time.perf_counter() - began) / n * 1e6


async def run(client: httpx.AsyncClient, n: int) -> float:
    """Mean µs per request over `n` sequential requests (each must answer 200)."""
    began = time.perf_counter()
    for _ in range(n):
        response = await client.get(PATH)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - began) / n * 1e6


def seed(url: str) -> None:
    """A few hundred results (the reports bench's seed at a tiny size): the page is full."""
    from report_seed import load

    load(url, 300)


def profile_table(profile: cProfile.Profile, n: int) -> str:
    stats = pstats.Stats(profile)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    lines = [f"{'layer (cumulative, µs per request)':<36}{'µs':>8}"]
    for label, file_part, name in LAYERS:
        total = sum(
            cum
            for (file, _line, func), (_cc, _nc, _tt, cum, _callers) in raw.items()
            if func == name and file.endswith(file_part)
        )
        lines.append(f"{label:<36}{total / n * 1e6:8.0f}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(18)
    lines.append("top functions by own time (whole run):")
    body = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(body) if "ncalls" in line)
    lines.extend(body[start : start + 19])
    if "--callers" in sys.argv:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).print_callers(
            r"concurrency.py:32|_find_and_load_unlocked|_find_and_load\b|_gcd_import|import_module|__import__"
        )
        lines.append(out.getvalue())
    return "\n".join(lines)


async def main(n: int) -> None:
    logging.getLogger("casework").setLevel(logging.INFO)
    pgdata = Path(tempfile.mkdtemp(prefix="casework-reqcost-")) / "pg"
    admin = start_embedded(pgdata)
    name = f"reqcost_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin, name)
    try:
        upgrade(url)
        seed(url)
        engine = make_engine(url)
        settings = Settings(
            auth_secret=SECRET, database_url="unused://", temporal_address="127.0.0.1:1"
        )
        app = create_app(settings, engine=engine)
        token = mint_token(
            secret=SECRET, sub="bench", roles=["admin"], now=datetime.now(UTC), ttl=timedelta(1)
        )
        headers = {"Authorization": f"Bearer {token}"}
        base = "http://casework.bench"
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=base, headers=headers
            ) as client,
        ):
            calls: list[tuple[str, dict[str, Any]]] = []

            def hook(c: Any, cur: Any, statement: str, params: Any, ctx: Any, m: bool) -> None:
                calls.append((statement, dict(params or {})))

            event.listen(engine, "before_cursor_execute", hook)
            await run(client, 1)
            event.remove(engine, "before_cursor_execute", hook)
            sql, params = calls[-1]
            floor = floor_app(engine, sql, params)
            who = Principal(sub="bench", roles=frozenset({Role.ADMIN}))
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=floor), base_url=base) as bare,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=routes_only(app, who)), base_url=base
                ) as inner,
            ):
                for warm in (bare, inner, client):
                    await run(warm, 20)
                floors, services, routes, apps = [], [], [], []
                for _ in range(3):  # interleaved, best of three: less noise from neighbours
                    floors.append(await run(bare, n // 3))
                    services.append(service_us(engine, n // 3))
                    routes.append(await run(inner, n // 3))
                    apps.append(await run(client, n // 3))
            floor_us, route_us, app_us = min(floors), min(routes), min(apps)
            service = min(services)
            print(f"request cost: {n} sequential GET {PATH} (best of 3 rounds of {n // 3})")
            print(f"  bare FastAPI route, same SQL (floor) {floor_us:8.0f} µs per request")
            print(f"  the route's service alone, no HTTP   {service:8.0f} µs per request")
            print(f"  the app's router, no middleware      {route_us:8.0f} µs per request")
            print(f"  the whole app                        {app_us:8.0f} µs per request")
            print(
                f"  by layer: routing + deps + answer {route_us - service:.0f} µs over the service,"
                f" middleware chain {app_us - route_us:.0f} µs"
            )
            print(
                f"  ratio app/floor {app_us / floor_us:.2f}x, fixed cost {app_us - floor_us:.0f} µs"
            )
            profile = cProfile.Profile()
            profile.enable()
            await run(client, n)
            profile.disable()
            print(profile_table(profile, n))
        engine.dispose()
    finally:
        drop_database(admin, name)
        stop_embedded(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 500))
