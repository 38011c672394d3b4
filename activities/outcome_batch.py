"""Bulk release activities: set-based, one transaction per chunk, safe to retry; an
operator's cancel of the batch."""

import asyncio

from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from activities.base import ClientActivities, transaction_activity
from activities.cancellation import record_cancelled
from domain.cancellation import CANCELLED_BY_OPERATOR
from domain.outcome import (
    BATCH_ENDED,
    BatchItemState,
    BatchStatus,
    ReleaseMethod,
)
from models.event import record_change
from models.outcome import Outcome, ReleaseBatch, ReleaseBatchItem
from models.outcome_release import drop_batch_schedule, release_outcomes, take_batch_schedule
from models.release_batch import (
    cancel_rest,
    item_counts,
    lock_batch,
    mark_items,
    skip_items,
    skip_rest,
)
from models.views import same_named, view_of
from workflows.payloads.outcome import (
    BatchCounts,
    CancelBatchInput,
    CloseBatchInput,
    ListReleasedInput,
    NotifyReleasedInput,
    OutcomeRefPayload,
    OutcomeReleasedNotice,
    ReleaseBatchChunkInput,
    ReleasedPage,
    ScheduleBatchInput,
)

# Signals in flight at once per notify activity (bounded: the server has limits too).
NOTIFY_CONCURRENCY = 64


class OutcomeBatchActivities(ClientActivities):
    """I/O for OutcomeReleaseBatchWorkflow (the client signals released outcomes)."""

    @transaction_activity
    def schedule_release_batch(self, session: Session, command: ScheduleBatchInput) -> BatchCounts:
        """Point every pending outcome's schedule at the batch; skip the others.

        A handful of set-based statements in one transaction, whatever the batch's size.
        """
        batch = lock_batch(session, command.batch_id)
        if batch.status != BatchStatus.QUEUED:  # a retry
            return counts_of(session, batch)
        take_batch_schedule(
            session,
            batch.id,
            release_at=command.release_at,
            actor=command.actor,
            at=command.at,
        )
        skip_rest(session, batch.id, BatchItemState.PENDING)
        batch.status = BatchStatus.SCHEDULED
        batch.updated_at = command.at
        session.add(batch)
        return counts_of(session, batch)

    @transaction_activity
    def release_batch_chunk(self, session: Session, command: ReleaseBatchChunkInput) -> BatchCounts:
        """Release the next chunk of items, re-checking each outcome in the UPDATE itself.

        Set-based: the chunk's ids, one release statement (outcomes, to-dos, audit rows,
        events), one statement per item state, the counts; one transaction.
        """
        batch = lock_batch(session, command.batch_id)
        if batch.status in BATCH_ENDED:  # a cancelled batch releases nothing more
            return counts_of(session, batch)
        state = (
            BatchItemState.SCHEDULED
            if command.method == ReleaseMethod.SCHEDULED
            else BatchItemState.PENDING
        )
        ids = session.exec(
            select(ReleaseBatchItem.outcome_id)
            .where(ReleaseBatchItem.batch_id == batch.id, ReleaseBatchItem.state == state)
            .order_by(col(ReleaseBatchItem.position))
            .limit(command.limit)
        ).all()
        scheduled = command.method == ReleaseMethod.SCHEDULED
        released = release_outcomes(
            session,
            ids,
            **same_named(command, "method", "at", "actor"),
            schedule_owner=f"batch:{batch.id}" if scheduled else None,
            scheduled_at=command.release_at if scheduled else None,
        )
        released_ids = {r.id for r in released}
        mark_items(session, batch.id, released_ids, BatchItemState.RELEASED)
        skip_items(session, batch.id, set(ids) - released_ids)
        batch.status = BatchStatus.RUNNING
        batch.updated_at = command.at
        session.add(batch)
        return counts_of(session, batch)

    @activity.defn
    def list_batch_released(self, command: ListReleasedInput) -> ReleasedPage:
        """Released items after a position, with what their workflows should learn."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(ReleaseBatchItem.position, Outcome)
                .join(Outcome, col(Outcome.id) == col(ReleaseBatchItem.outcome_id))
                .where(
                    ReleaseBatchItem.batch_id == command.batch_id,
                    ReleaseBatchItem.state == BatchItemState.RELEASED,
                    ReleaseBatchItem.position > command.after_position,
                )
                .order_by(col(ReleaseBatchItem.position))
                .limit(command.limit)
            ).all()
        outcomes = [
            view_of(OutcomeRefPayload, outcome, outcome_id=outcome.id)
            for _, outcome in rows
            if outcome.released_at is not None and outcome.release_method is not None
        ]
        last = rows[-1][0] if len(rows) == command.limit else None
        return ReleasedPage(outcomes=outcomes, last_position=last)

    @activity.defn
    async def notify_outcomes_released(self, command: NotifyReleasedInput) -> int:
        """Signal each outcome's workflow (a finished or absent one needs nothing)."""
        gate = asyncio.Semaphore(NOTIFY_CONCURRENCY)

        async def one(ref: OutcomeRefPayload) -> int:
            async with gate:
                handle = self.client.get_workflow_handle(f"{ref.kind}-{ref.outcome_id}")
                notice = OutcomeReleasedNotice(
                    revision=ref.revision,
                    released_at=ref.released_at,
                    release_method=ref.release_method,
                )
                try:
                    await handle.signal("released", notice)
                except RPCError as error:
                    if error.status != RPCStatusCode.NOT_FOUND:
                        raise
                    return 0
                return 1

        sent = await asyncio.gather(*(one(ref) for ref in command.outcomes))
        activity.heartbeat(len(sent))
        return sum(sent)

    @transaction_activity
    def close_release_batch(self, session: Session, command: CloseBatchInput) -> BatchCounts:
        """Mark the batch completed, with its audit row and event."""
        batch = lock_batch(session, command.batch_id)
        counts = counts_of(session, batch)
        if batch.status not in BATCH_ENDED:
            batch.status = BatchStatus.COMPLETED
            batch.completed_at = batch.updated_at = command.at
            session.add(batch)
            detail = counts.model_dump(exclude={"batch_id", "status"})
            key = f"release_batch:{batch.id}:completed"
            record_change(
                session,
                subject_kind="release_batch",
                subject_id=batch.id,
                action="completed",
                at=command.at,
                actor="system",
                key=key,
                detail=detail,
                data={"batch_id": batch.id},
            )
        return counts.model_copy(update={"status": batch.status})

    @transaction_activity
    def cancel_release_batch(self, session: Session, command: CancelBatchInput) -> BatchCounts:
        """An operator's cancel: what is left is skipped and the batch's schedules dropped
        (those outcomes stay pending), released ones stay released; the batch is
        CANCELLED. A batch with nothing left, or ended, is left as it is."""
        batch = lock_batch(session, command.batch_id)
        counts = counts_of(session, batch)
        if batch.status in BATCH_ENDED or counts.pending + counts.scheduled == 0:
            return counts
        if batch.release_at is not None:
            drop_batch_schedule(
                session,
                batch.id,
                release_at=batch.release_at,
                reason=CANCELLED_BY_OPERATOR,
                actor=command.actor,
                at=command.at,
            )
        cancel_rest(session, batch.id)
        batch.status = BatchStatus.CANCELLED
        batch.completed_at = batch.updated_at = command.at
        session.add(batch)
        counts = counts_of(session, batch)
        record_cancelled(
            session,
            command,
            subject_kind="release_batch",
            subject_id=batch.id,
            counts={"released": counts.released, "skipped": counts.skipped},
            data={"batch_id": batch.id},
        )
        return counts


def counts_of(session: Session, batch: ReleaseBatch) -> BatchCounts:
    """Item counts per state."""
    counts = item_counts(session, batch.id).by_state()
    return BatchCounts(batch_id=batch.id, status=batch.status, total=batch.total, **counts)
