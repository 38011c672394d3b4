"""What a workflow does with an operator's cancel request (decision 0074).

Temporal delivers a cancel (UI "Request Cancellation", `temporal workflow cancel`) to the
run's main task only: update handlers in flight go on. `on_operator_cancel` catches it
around `run` and calls the workflow's handler, which records the cancel through its
activities and says how the run ends. Workflows that ran before this code (no
`operator-cancel` marker in their history) replay as they ran: cancelled at once.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from enum import Enum
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

from domain.cancellation import note_of, operator_of
from workflows.payloads.cancellation import find_cancel_requester
from workflows.typevars import R

PATCH = "operator-cancel"
# Reading the history is best effort: after a few tries the actor is `operator`.
FIND_TIMEOUT = timedelta(seconds=30)
FIND_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=10))

W = TypeVar("W")
P = ParamSpec("P")
T = TypeVar("T")


class AfterCancel(Enum):
    """How the run goes on once the handler has recorded the cancel."""

    END_CANCELLED = "end_cancelled"  # Temporal shows the run Canceled
    CARRY_ON = "carry_on"  # the cancel was refused (or only un-scheduled): run again


Handler = Callable[Concatenate[W, P], Awaitable[R | AfterCancel]]
Run = Callable[Concatenate[W, P], Awaitable[R]]


def on_operator_cancel(
    handler: Handler[W, P, R],
) -> Callable[[Run[W, P, R]], Callable[Concatenate[W, P], Coroutine[Any, Any, R]]]:
    """Decorate `run`: an operator's cancel goes to `handler` (called with run's arguments),
    which returns the run's result (the run completes), or says to end cancelled or go on."""

    def decorate(run: Run[W, P, R]) -> Callable[Concatenate[W, P], Coroutine[Any, Any, R]]:
        @functools.wraps(run)
        async def run_handling_cancel(self: W, /, *args: P.args, **kwargs: P.kwargs) -> R:
            while True:
                try:
                    return await run(self, *args, **kwargs)
                except BaseException as error:
                    if not is_operator_cancel(error):
                        raise
                    after = await _to_the_end(handler(self, *args, **kwargs))
                    if after is AfterCancel.END_CANCELLED:
                        raise
                if after is not AfterCancel.CARRY_ON:
                    return after

        return run_handling_cancel

    return decorate


def is_operator_cancel(error: BaseException) -> bool:
    """True for the server's cancel request, in a run whose history handles it (patched)."""
    if not is_cancelled_exception(error) or workflow.cancellation_reason() is None:
        return False  # an eviction, or an inner cancel: not ours to handle
    if not workflow.patched(PATCH):
        return False
    task = asyncio.current_task()
    if isinstance(error, asyncio.CancelledError) and task is not None:
        task.uncancel()  # the request is handled: later awaits must not see it again
    return True


async def _to_the_end(work: Awaitable[T]) -> T:
    """Run the cancel's handling to its end: a repeated request does not cut it short."""
    task = asyncio.ensure_future(work)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the worker evicts the run: everything stops
                raise


async def operator_of_cancel() -> tuple[str, str | None]:
    """Who asked to cancel (their Temporal identity, else `operator`) and their reason text."""
    try:
        requester = await workflow.execute_activity(
            find_cancel_requester,
            start_to_close_timeout=FIND_TIMEOUT,
            retry_policy=FIND_RETRY,
            summary="who asked to cancel",
        )
        identity: str | None = requester.identity
    except ActivityError:
        identity = None
    return operator_of(identity), note_of(workflow.cancellation_reason())


class CurrentStep(Generic[T]):
    """The run's activity under way, shielded so that a cancel lets it finish."""

    def __init__(self) -> None:
        self._task: asyncio.Future[T] | None = None

    async def run(self, work: Awaitable[T]) -> T:
        """Await `work`; on an operator's cancel it goes on while the cancel is raised."""
        task = self._task = asyncio.ensure_future(work)
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if workflow.cancellation_reason() is None or not workflow.patched(PATCH):
                task.cancel()  # as before the patch: the activity is asked to cancel
                return await task
            raise
        self._task = None
        return result

    async def finish(self) -> T | None:
        """The interrupted step's result once it ends (None: none, or it failed)."""
        task, self._task = self._task, None
        if task is None:
            return None
        try:
            return await task
        except ActivityError:
            return None
