"""What Temporal itself says about the cases: the truth the UI's pages are checked against."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import Client

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a thread of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class Case:
    """One workflow execution as Temporal's visibility and describe report it."""

    workflow_id: str
    run_id: str
    summary: str | None = None
    details: str | None = None


async def _list(address: str, query: str) -> list[Case]:
    client = await Client.connect(address)
    return [Case(w.id, w.run_id) async for w in client.list_workflows(query)]


async def _describe(address: str, workflow_id: str) -> Case:
    client = await Client.connect(address)
    described = await client.get_workflow_handle(workflow_id).describe()
    return Case(
        workflow_id,
        described.run_id,
        summary=await described.static_summary(),
        details=await described.static_details(),
    )


def listed(address: str, query: str) -> dict[str, str]:
    """Workflow id -> run id of every execution matching the visibility `query`."""
    return {case.workflow_id: case.run_id for case in _run(_list(address, query))}


def described(address: str, workflow_id: str) -> Case:
    """The latest run of `workflow_id` with its static summary and details."""
    return _run(_describe(address, workflow_id))
