"""Reconcile's I/O: Temporal listings and descriptions, reads and writes off the event loop."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

T = TypeVar("T")

# Describes and repairs in flight at once (the dev server saturates early).
CONCURRENCY = 16


async def running_on(
    client: Client, workflow_type: str, task_queue: str
) -> dict[str, WorkflowExecution]:
    """The running workflows of one type on the task queue, by id (one visibility listing)."""
    query = (
        f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running' "
        f"AND TaskQueue = '{task_queue}'"
    )
    return {
        execution.id: execution async for execution in client.list_workflows(query, page_size=1000)
    }


async def describe(client: Client, workflow_id: str) -> WorkflowExecution | None:
    """The latest run of `workflow_id`, or None when there is no history."""
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def read(engine: Engine, read: Callable[[Session], T]) -> T:
    """A read in the thread pool (the caller's event loop may run a worker too)."""

    def run() -> T:
        with Session(engine) as session:
            return read(session)

    return await asyncio.to_thread(run)


async def write(engine: Engine, write: Callable[[Session], None]) -> None:
    """One transaction in the thread pool."""

    def run() -> None:
        with Session(engine) as session, session.begin():
            write(session)

    await asyncio.to_thread(run)


async def gather_bounded(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Await `calls`, CONCURRENCY at a time, in order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))
