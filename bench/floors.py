"""The engine floors of bench/review_cycle.py: a no-op workflow taking 4 updates, each running
one no-op activity, local (`LocalFloorWorkflow`) or regular (`RegularFloorWorkflow`).

    .venv/bin/python bench/floors.py TEMPORAL_ADDRESS TASK_QUEUE   # runs their worker
"""

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

STEPS = 4
TIMEOUT = timedelta(seconds=30)


@activity.defn
async def noop(value: str) -> str:
    """Nothing: the floor's activity."""
    return value


class _Floor:
    """A no-op workflow taking STEPS updates, each running one no-op activity (`_run_one`).
    The SDK wants `@workflow.run` on each workflow class itself, so each names it."""

    def __init__(self) -> None:
        self.done = 0

    async def _run_one(self, value: str) -> str:
        raise NotImplementedError

    async def _steps_done(self) -> int:
        await workflow.wait_condition(
            lambda: self.done >= STEPS and workflow.all_handlers_finished()
        )
        return self.done

    @workflow.update
    async def step(self, value: str) -> str:
        answer = await self._run_one(value)
        self.done += 1
        return answer


@workflow.defn
class LocalFloorWorkflow(_Floor):
    @workflow.run
    async def run(self) -> int:
        return await self._steps_done()

    async def _run_one(self, value: str) -> str:
        return await workflow.execute_local_activity(noop, value, start_to_close_timeout=TIMEOUT)


@workflow.defn
class RegularFloorWorkflow(_Floor):
    @workflow.run
    async def run(self) -> int:
        return await self._steps_done()

    async def _run_one(self, value: str) -> str:
        return await workflow.execute_activity(noop, value, start_to_close_timeout=TIMEOUT)


async def serve(address: str, queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[LocalFloorWorkflow, RegularFloorWorkflow],
        activities=[noop],
    )
    async with worker:
        print("floor worker polling", queue, flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
