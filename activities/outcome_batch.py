"""Bulk release activities: set-based, one transaction per chunk, safe to retry; an
operator's cancel of the batch."""

import asyncio
from collections.abc import Collection

from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.refusal import refusals_fail_fast
from domain.cancellation import CANCELLED_BY_OPERATOR
from domain.errors import NotFound
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMethod
from models.event import publish, write_audit
from models.outcome import Outcome, ReleaseBatch, ReleaseBatchItem
from models.outcome_release import drop_batch_schedule, release_outcomes, take_batch_schedule
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
# Statuses after which a batch changes no more.
ENDED = ("COMPLETED", "CANCELLED")


class OutcomeBatchActivities:
    """I/O for OutcomeReleaseBatchWorkflow (the client signals released outcomes)."""

    def __init__(self, engine: Engine, client: Client) -> None:
        self.engine = engine
        self.client = client

    @activity.defn
    @refusals_fail_fast
    def schedule_release_batch(self, command: ScheduleBatchInput) -> BatchCounts:
        """Point every pending outcome's schedule at the batch; skip the others.

        A handful of set-based statements in one transaction, whatever the batch's size.
        """
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            if batch.status != "QUEUED":  # a retry
                return counts_of(session, batch)
            take_batch_schedule(
                session,
                batch.id,
                release_at=command.release_at,
                actor=command.actor,
                at=command.at,
            )
            _skip_rest(session, batch.id, "PENDING")
            batch.status = "SCHEDULED"
            batch.updated_at = command.at
            session.add(batch)
            return counts_of(session, batch)

    @activity.defn
    @refusals_fail_fast
    def release_batch_chunk(self, command: ReleaseBatchChunkInput) -> BatchCounts:
        """Release the next chunk of items, re-checking each outcome in the UPDATE itself.

        Set-based: the chunk's ids, one release statement (outcomes, to-dos, audit rows,
        events), one statement per item state, the counts; one transaction.
        """
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            if batch.status in ENDED:  # a cancelled batch releases nothing more
                return counts_of(session, batch)
            state = "SCHEDULED" if command.method == ReleaseMethod.SCHEDULED else "PENDING"
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
                method=command.method,
                at=command.at,
                actor=command.actor,
                schedule_owner=f"batch:{batch.id}" if scheduled else None,
                scheduled_at=command.release_at if scheduled else None,
            )
            released_ids = {r.id for r in released}
            _mark(session, batch.id, released_ids, "RELEASED")
            _skip(session, batch.id, set(ids) - released_ids)
            batch.status = "RUNNING"
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
                    ReleaseBatchItem.state == "RELEASED",
                    ReleaseBatchItem.position > command.after_position,
                )
                .order_by(col(ReleaseBatchItem.position))
                .limit(command.limit)
            ).all()
        outcomes = [
            OutcomeRefPayload(
                kind=OutcomeKind(outcome.kind),
                outcome_id=outcome.id,
                revision=outcome.revision,
                released_at=outcome.released_at,
                release_method=ReleaseMethod(outcome.release_method),
            )
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
                handle = self.client.get_workflow_handle(f"{ref.kind.value}-{ref.outcome_id}")
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

    @activity.defn
    @refusals_fail_fast
    def close_release_batch(self, command: CloseBatchInput) -> BatchCounts:
        """Mark the batch completed, with its audit row and event."""
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            counts = counts_of(session, batch)
            if batch.status not in ENDED:
                batch.status = "COMPLETED"
                batch.completed_at = batch.updated_at = command.at
                session.add(batch)
                detail = counts.model_dump(exclude={"batch_id", "status"})
                key = f"release_batch:{batch.id}:completed"
                write_audit(
                    session,
                    subject_kind="release_batch",
                    subject_id=batch.id,
                    at=command.at,
                    actor="system",
                    action="completed",
                    key=key,
                    detail=detail,
                )
                publish(
                    session,
                    type="release_batch.completed",
                    subject=batch.id,
                    at=command.at,
                    key=key,
                    data={"batch_id": batch.id, **detail},
                )
            return counts.model_copy(update={"status": batch.status})

    @activity.defn
    @refusals_fail_fast
    def cancel_release_batch(self, command: CancelBatchInput) -> BatchCounts:
        """An operator's cancel: what is left is skipped and the batch's schedules dropped
        (those outcomes stay pending), released ones stay released; the batch is
        CANCELLED. A batch with nothing left, or ended, is left as it is."""
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            counts = counts_of(session, batch)
            if batch.status in ENDED or counts.pending + counts.scheduled == 0:
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
            session.execute(_CANCEL_REST, {"batch_id": batch.id})
            batch.status = "CANCELLED"
            batch.completed_at = batch.updated_at = command.at
            session.add(batch)
            counts = counts_of(session, batch)
            detail = {"reason": CANCELLED_BY_OPERATOR, "released": counts.released}
            detail["skipped"] = counts.skipped
            key = f"release_batch:{batch.id}:cancelled"
            write_audit(
                session,
                subject_kind="release_batch",
                subject_id=batch.id,
                at=command.at,
                actor=command.actor,
                action="cancelled",
                key=key,
                detail={**detail, "note": command.note},
            )
            publish(
                session,
                type="release_batch.cancelled",
                subject=batch.id,
                at=command.at,
                key=key,
                data={"batch_id": batch.id, **detail},
            )
            return counts


def lock_batch(session: Session, batch_id: str) -> ReleaseBatch:
    """The batch row, locked for the rest of the transaction."""
    batch = session.exec(
        select(ReleaseBatch).where(ReleaseBatch.id == batch_id).with_for_update()
    ).one_or_none()
    if batch is None:
        raise NotFound(f"release batch {batch_id} does not exist")
    return batch


def counts_of(session: Session, batch: ReleaseBatch) -> BatchCounts:
    """Item counts per state."""
    rows = session.exec(
        select(ReleaseBatchItem.state, func.count())
        .where(ReleaseBatchItem.batch_id == batch.id)
        .group_by(col(ReleaseBatchItem.state))
    ).all()
    by_state = {state: int(n) for state, n in rows}
    return BatchCounts(
        batch_id=batch.id,
        status=batch.status,
        total=batch.total,
        pending=by_state.get("PENDING", 0),
        scheduled=by_state.get("SCHEDULED", 0),
        released=by_state.get("RELEASED", 0),
        skipped=by_state.get("SKIPPED", 0),
    )


# Why an item was skipped: the status of its outcome now (after this transaction's release).
_REASON = f"""
    coalesce((
        SELECT CASE
            WHEN o.status = '{OutcomeStatus.RELEASED.value}' THEN
                CASE WHEN o.release_method = '{ReleaseMethod.VOID.value}'
                     THEN 'voided' ELSE 'already released' END
            WHEN o.status = '{OutcomeStatus.PENDING_RELEASE.value}' THEN
                CASE WHEN o.schedule_owner IS NOT NULL
                     THEN 'rescheduled' ELSE 'not on this schedule' END
            ELSE 'not pending release (' || o.status || ')'
        END
        FROM outcomes o WHERE o.id = i.outcome_id
    ), 'no such outcome')
"""
_CANCEL_REST = text(
    "UPDATE release_batch_items SET state = 'SKIPPED', reason = 'cancelled by an operator'"
    " WHERE batch_id = :batch_id AND state IN ('PENDING', 'SCHEDULED')"
)
_MARK = text(
    "UPDATE release_batch_items SET state = :state"
    " WHERE batch_id = :batch_id AND outcome_id = ANY(:ids)"
)
_SKIP = text(
    f"UPDATE release_batch_items i SET state = 'SKIPPED', reason = {_REASON}"
    " WHERE i.batch_id = :batch_id AND i.outcome_id = ANY(:ids)"
)
_SKIP_REST = text(
    f"UPDATE release_batch_items i SET state = 'SKIPPED', reason = {_REASON}"
    " WHERE i.batch_id = :batch_id AND i.state = :state"
)


def _mark(session: Session, batch_id: str, outcome_ids: Collection[str], state: str) -> None:
    """One statement for every item of these outcomes."""
    if outcome_ids:
        session.execute(_MARK, {"batch_id": batch_id, "ids": sorted(outcome_ids), "state": state})


def _skip(session: Session, batch_id: str, outcome_ids: Collection[str]) -> None:
    """Skipped items keep why: the outcome's status now (released, voided, moved, absent)."""
    if outcome_ids:
        session.execute(_SKIP, {"batch_id": batch_id, "ids": sorted(outcome_ids)})


def _skip_rest(session: Session, batch_id: str, state: str) -> None:
    """Skip every item still in `state`, with why, in one statement."""
    session.execute(_SKIP_REST, {"batch_id": batch_id, "state": state})
