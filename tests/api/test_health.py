"""Readiness: 503 naming what is down when PostgreSQL or Temporal does not answer."""

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.db import make_engine
from core.settings import Settings
from tests.support.infra import TEST_SERVER
from tests.support.tokens import SECRET


async def _readyz(engine: Engine, temporal: Client) -> httpx.Response:
    app = create_app(Settings(auth_secret=SECRET), engine=engine, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        return await client.get("/readyz")


async def test_readyz_is_503_when_temporal_is_down(db: Engine) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    client = env.client
    assert (await _readyz(db, client)).status_code == 200
    await env.shutdown()

    response = await _readyz(db, client)

    assert response.status_code == 503
    assert response.json()["detail"] == "not ready: temporal did not answer"


async def test_readyz_is_503_when_postgresql_is_down(dev_env: WorkflowEnvironment) -> None:
    unreachable = make_engine(
        "postgresql+psycopg://nobody@/none?host=/nonexistent&connect_timeout=1"
    )

    response = await _readyz(unreachable, dev_env.client)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "not ready: postgresql did not answer"
    assert response.headers["retry-after"] == "2"
