"""HTTP scenarios: the ASGI app wired to the real database and a real worker on the dev server."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from tests.support.tokens import SECRET
from worker import build_worker


@pytest.fixture
async def api(
    db: Engine, dev_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app; a worker on the test's own task queue runs its workflows."""
    settings = Settings(auth_secret=SECRET, task_queue=task_queue, database_url="unused://")
    app = create_app(settings, engine=db, temporal=dev_env.client)
    worker = build_worker(dev_env.client, db, task_queue=task_queue, threads=8)
    transport = httpx.ASGITransport(app=app)
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        yield client
