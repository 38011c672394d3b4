"""What Temporal itself says about the cases: the truth the UI's pages are checked against."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a thread of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class Case:
    """One workflow execution as Temporal's describe and its metadata query report it."""

    workflow_id: str
    run_id: str
    summary: str | None
    details: str | None
    current_details: str


async def _list(address: str, query: str | None) -> dict[str, str]:
    client = await Client.connect(address)
    return {w.id: w.run_id async for w in client.list_workflows(query)}


async def _describe(address: str, workflow_id: str) -> Case:
    client = await Client.connect(address)
    handle = client.get_workflow_handle(workflow_id)
    described = await handle.describe()
    # The query every SDK answers for the UI: what set_current_details last said.
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return Case(
        workflow_id,
        described.run_id,
        summary=await described.static_summary(),
        details=await described.static_details(),
        current_details=metadata.current_details,
    )


def listed(address: str, query: str | None = None) -> dict[str, str]:
    """Workflow id -> run id of every execution matching the visibility `query` (None: all)."""
    return _run(_list(address, query))


def described(address: str, workflow_id: str) -> Case:
    """The latest run of `workflow_id`: its static summary and details, its current details."""
    return _run(_describe(address, workflow_id))
