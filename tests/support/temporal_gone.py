"""The API on the test database with its Temporal server stopped: a write that commits, then
fails to reach Temporal, as after a crash or an outage between the two."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from tests.support.infra import TEMPORAL_CLI
from tests.support.tokens import SECRET


@contextlib.asynccontextmanager
async def app_whose_temporal_is_gone(
    db: Engine, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the same database, its Temporal server stopped (and no client retries)."""
    server = await WorkflowEnvironment.start_local(dev_server_existing_path=str(TEMPORAL_CLI))
    target = server.client.service_client.config.target_host
    gone = await Client.connect(
        target,
        data_converter=pydantic_data_converter,
        retry_config=RetryConfig(max_retries=1, max_elapsed_time_millis=500),
    )
    await server.shutdown()
    settings = Settings(auth_secret=SECRET, task_queue=task_queue, database_url="unused://")
    app = create_app(settings, engine=db, temporal=gone)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        yield client
