"""Session fixtures: a real PostgreSQL (embedded, or DATABASE_URL) and real Temporal servers."""

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.db import make_engine
from core.pg import start_embedded, stop_embedded
from core.temporal import SEARCH_ATTRIBUTES, register_search_attributes
from tests.support.infra import (
    TEMPORAL_CLI,
    forget_database,
    fresh_database,
    start_time_skipping,
    truncate_all,
)
from worker import Workers, build_worker


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A PostgreSQL server: DATABASE_URL's, or an embedded one for this run."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    pgdata = Path(tempfile.mkdtemp(prefix="casework-pg-")) / "pg"
    try:
        yield start_embedded(pgdata)
    finally:
        stop_embedded(pgdata)


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A freshly migrated database of this run's own."""
    name, url = fresh_database(pg_admin_url)
    yield url
    forget_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine every test and in-process worker shares."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The engine, with every table empty when the test starts."""
    truncate_all(engine)
    return engine


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server per test (a stuck lock never leaks across tests)."""
    env = await start_time_skipping()
    await register_search_attributes(env.client)
    async with env:
        yield env


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One dev server per session: visibility (list, search attributes) and schedules."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    async with env:
        yield env


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so no other worker takes its tasks."""
    return f"casework-test-{uuid.uuid4().hex[:8]}"


async def running_worker(client: Client, engine: Engine, task_queue: str) -> Workers:
    """A worker with every workflow and activity (caller runs it with `async with`)."""
    return build_worker(client, engine, task_queue=task_queue, threads=8)
