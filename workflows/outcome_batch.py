"""OutcomeReleaseBatchWorkflow: release up to 10,000 outcomes now or at one instant."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

from domain.console import batch_next
from domain.outcome import ReleaseMethod, ReleaseMode
from workflows.cancellation import AfterCancel, CurrentStep, on_operator_cancel, operator_of_cancel
from workflows.console import Console, first_task
from workflows.descriptions import RELEASE_BATCH_HELP
from workflows.payloads.outcome import (
    BatchCounts,
    CancelBatchInput,
    CloseBatchInput,
    ListReleasedInput,
    NotifyReleasedInput,
    ReleaseBatchChunkInput,
    ScheduleBatchInput,
    StartReleaseBatchInput,
    cancel_release_batch,
    close_release_batch,
    list_batch_released,
    notify_outcomes_released,
    release_batch_chunk,
    schedule_release_batch,
)
from workflows.refusal import in_words
from workflows.resumption import record_resumption
from workflows.search_keys import keys
from workflows.typevars import A, R

TIMEOUT = timedelta(minutes=2)
# A database or Temporal outage only delays the batch; refusals are final.
RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["Conflict", "Forbidden", "Invalid", "NotFound"],
)


@workflow.defn
class OutcomeReleaseBatchWorkflow:
    """One bulk release (id `outcome-release-batch-{id}`).

    Query: `progress`. Timer: the scheduled instant (mode `scheduled`).
    Activities: schedule_release_batch (scheduled mode: the outcomes' schedules point at
    the batch), release_batch_chunk (set-based, one transaction per chunk, re-checking
    each outcome), list_batch_released + notify_outcomes_released (each released
    outcome's own workflow finishes), close_release_batch; record_resumption first when
    reconcile restarted it (the steps then go on from the rows, the timer from `release_at`).
    Cancel (Temporal UI or CLI): the activity under way (a chunk) finishes; then what is
    left is skipped ("cancelled by an operator") and the batch's schedules are dropped
    (those outcomes stay pending), released ones stay released and their workflows are
    told; the batch is CANCELLED (audit row with the operator and reason
    CANCELLED_BY_OPERATOR, `release_batch.cancelled`) and the run ends Canceled. With
    nothing left it completes. Activities, besides: cancel_release_batch,
    find_cancel_requester.
    """

    @workflow.init
    def __init__(self, start: StartReleaseBatchInput) -> None:
        self._progress = BatchCounts(batch_id=start.batch_id, status="QUEUED")
        self._step = CurrentStep[Any]()
        self._release_at = start.release_at
        self._console = Console()

    async def _stop_for_operator(self, start: StartReleaseBatchInput) -> BatchCounts | AfterCancel:
        """A cancel request: skip what is left once the chunk under way is done."""
        await self._step.finish()
        actor, note = await operator_of_cancel()
        cancel = CancelBatchInput(
            batch_id=start.batch_id, actor=actor, note=note, at=workflow.now()
        )
        self._set(await self._call(cancel_release_batch, cancel))
        await self._notify(start)  # outcomes released before the cancel end their workflows
        if self._progress.status == "CANCELLED":
            return AfterCancel.END_CANCELLED
        if self._progress.status != "COMPLETED":  # nothing was left: it ends as it would have
            close = CloseBatchInput(batch_id=start.batch_id, at=workflow.now())
            self._set(await self._call(close_release_batch, close))
        return self._progress

    @workflow.run
    @on_operator_cancel(_stop_for_operator)
    async def run(self, start: StartReleaseBatchInput) -> BatchCounts:
        """Schedule (if asked), wait for the instant, release chunk by chunk, notify, close."""
        if first_task():
            self._set(self._progress)
        if start.resumed is not None:  # every step below is idempotent on the batch's rows
            await record_resumption(
                start.resumed, subject_kind="release_batch", subject_id=start.batch_id
            )
        method = ReleaseMethod.MANUAL
        if start.mode == ReleaseMode.SCHEDULED:
            assert start.release_at is not None
            method = ReleaseMethod.SCHEDULED
            self._set(
                await self._call(
                    schedule_release_batch,
                    ScheduleBatchInput(
                        batch_id=start.batch_id,
                        release_at=start.release_at,
                        actor=start.actor,
                        at=workflow.now(),
                    ),
                )
            )
            delay = start.release_at - workflow.now()
            if delay > timedelta(0):
                await workflow.sleep(delay, summary="scheduled release")
        while True:
            counts = await self._call(
                release_batch_chunk,
                ReleaseBatchChunkInput(
                    batch_id=start.batch_id,
                    method=method,
                    release_at=start.release_at,
                    actor=start.actor if method == ReleaseMethod.MANUAL else "system",
                    limit=start.chunk_size,
                    at=workflow.now(),
                ),
            )
            self._set(counts)
            if counts.pending == 0 and counts.scheduled == 0:
                break
        await self._notify(start)
        close = CloseBatchInput(batch_id=start.batch_id, at=workflow.now())
        self._set(await self._call(close_release_batch, close))
        return self._progress

    @workflow.query(description=RELEASE_BATCH_HELP["progress"])
    def progress(self) -> BatchCounts:
        """The counts as of the last activity."""
        return self._progress

    async def _notify(self, start: StartReleaseBatchInput) -> None:
        """Tell each released outcome's workflow, a page at a time."""
        after = -1
        while True:
            page = await self._call(
                list_batch_released,
                ListReleasedInput(
                    batch_id=start.batch_id, after_position=after, limit=start.chunk_size
                ),
            )
            if page.outcomes:
                await workflow.execute_activity(
                    notify_outcomes_released,
                    NotifyReleasedInput(outcomes=page.outcomes),
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=RETRY,
                    summary=f"tell {len(page.outcomes)} outcomes' workflows",
                )
            if page.last_position is None:
                return
            after = page.last_position

    async def _call(self, activity: Callable[[A], Awaitable[R]], arg: A) -> R:
        """Run one activity; an operator's cancel lets it finish (a chunk is never cut)."""
        result: R = await self._step.run(
            workflow.execute_activity(
                activity,
                arg,
                start_to_close_timeout=TIMEOUT,
                retry_policy=RETRY,
                summary=in_words(activity),
            )
        )
        return result

    def _set(self, counts: BatchCounts) -> None:
        self._progress = counts
        updates: list[SearchAttributeUpdate[Any]] = [keys.CASE_STATUS.value_set([counts.status])]
        if self._release_at is not None:
            updates.append(keys.RELEASE_AT.value_set(self._release_at))
        if first_task():  # runs before it had no kind: they are found by their id
            updates.append(keys.CASE_KIND.value_set("release_batch"))
        self._console.show(
            batch_next(counts.status, self._release_at),
            updates,
            f"**{counts.status}** · {counts.released} released, {counts.skipped} skipped, "
            f"{counts.pending + counts.scheduled} to go of {counts.total}",
        )
