"""HTTP scenarios: the ASGI app wired to the real database and a real worker on the dev server."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings, get_settings
from tests.support.tokens import SECRET
from worker import build_worker


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "settings(**fields): Settings fields of the test's `api` (and its worker)"
    )


def _settings_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The test's `@pytest.mark.settings(...)` fields, set as environment variables too, for
    the worker's process-wide settings (e.g. WEBHOOK_ALLOW_PRIVATE)."""
    marker = request.node.get_closest_marker("settings")
    if marker is None:
        return {}
    for name, value in marker.kwargs.items():
        monkeypatch.setenv(
            name.upper(), str(value).lower() if isinstance(value, bool) else str(value)
        )
    request.addfinalizer(get_settings.cache_clear)
    get_settings.cache_clear()
    return dict(marker.kwargs)


@pytest.fixture
async def api(
    db: Engine,
    dev_env: WorkflowEnvironment,
    task_queue: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app; a worker on the test's own task queue runs its workflows
    (`@pytest.mark.settings(webhook_allow_private=True)`: with those settings)."""
    overrides = _settings_marked(request, monkeypatch)
    settings = Settings(
        auth_secret=SECRET, task_queue=task_queue, database_url="unused://", **overrides
    )
    app = create_app(settings, engine=db, temporal=dev_env.client)
    worker = build_worker(dev_env.client, db, task_queue=task_queue, threads=8)
    transport = httpx.ASGITransport(app=app)
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        yield client
