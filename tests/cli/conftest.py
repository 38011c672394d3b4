"""The CLI in process (typer's CliRunner), against the session's PostgreSQL and dev server."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from cli import app
from core.settings import get_settings
from tests.api.conftest import api  # the ASGI app and a worker on the test's queue
from tests.e2e.conftest import python_env  # child processes' environment

__all__ = ["api", "python_env"]

Cli = Callable[..., Awaitable[Result]]


def invoke(env: dict[str, str], *args: str) -> Result:
    """`cli.py ARGS` with `env`, settings read afresh (and forgotten after)."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def cli(database_url: str, dev_env: WorkflowEnvironment, task_queue: str) -> Cli:
    """Run a command in a thread, so the session loop's worker (the `api` fixture's) runs."""
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TASK_QUEUE": task_queue,
    }

    async def run(*args: str) -> Result:
        return await asyncio.to_thread(invoke, env, *args)

    return run


def one_line_error(result: Result) -> str:
    """The command's only line of standard error (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]
