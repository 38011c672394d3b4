"""What every recording shares: an engine on the run's database, a time-skipping server
with our search attributes, and a worker (every workflow and activity) on a queue of its own.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.db import make_engine
from core.temporal import register_search_attributes
from tests.support.infra import start_time_skipping
from worker import build_worker


@dataclass(frozen=True)
class Recording:
    """The pieces a `record_*` function drives."""

    engine: Engine
    env: WorkflowEnvironment
    queue: str

    @property
    def client(self) -> Client:
        """The time-skipping server's client (pydantic data converter)."""
        return self.env.client


@asynccontextmanager
async def recording(database_url: str, *, threads: int = 2) -> AsyncIterator[Recording]:
    """A time-skipping server and a running worker against `database_url` (real PostgreSQL)."""
    engine = make_engine(database_url)
    try:
        env = await start_time_skipping()
        async with env:
            await register_search_attributes(env.client)
            queue = f"record-{uuid.uuid4().hex[:6]}"
            async with build_worker(env.client, engine, task_queue=queue, threads=threads):
                yield Recording(engine=engine, env=env, queue=queue)
    finally:
        engine.dispose()


async def history_json(handle: WorkflowHandle[Any, Any]) -> str:
    """The workflow's history as JSON (the form `WorkflowHistory.from_json` reads back)."""
    history = await handle.fetch_history()
    return history.to_json()
