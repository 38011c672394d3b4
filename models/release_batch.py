"""The queries and item writes of release batches, shared by the batch activities and the API."""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from domain.outcome import BatchItemState, OutcomeStatus, ReleaseMethod
from models.locking import lock_row
from models.outcome import ReleaseBatch, ReleaseBatchItem


@dataclass(frozen=True)
class ItemCounts:
    """How many items of a batch stand in each state, and why the skipped ones were."""

    states: Counter[BatchItemState]
    skipped_reasons: dict[str, int] = field(default_factory=dict)

    def by_state(self) -> dict[str, int]:
        """{pending, scheduled, released, skipped}: the count in each state (0 when none)."""
        return {state.lower(): self.states[state] for state in BatchItemState}


def lock_batch(session: Session, batch_id: str) -> ReleaseBatch:
    """The batch row, locked for the rest of the transaction."""
    missing = f"release batch {batch_id} does not exist"
    return lock_row(session, ReleaseBatch, ReleaseBatch.id == batch_id, missing=missing)


def item_counts(session: Session, batch_id: str) -> ItemCounts:
    """Item counts per state, and per reason for the skipped ones."""
    rows = session.exec(
        select(ReleaseBatchItem.state, ReleaseBatchItem.reason, func.count())
        .where(ReleaseBatchItem.batch_id == batch_id)
        .group_by(col(ReleaseBatchItem.state), col(ReleaseBatchItem.reason))
    ).all()
    states: Counter[BatchItemState] = Counter()
    reasons: dict[str, int] = {}
    for state, reason, count in rows:
        states[BatchItemState(state)] += int(count)
        if state == BatchItemState.SKIPPED:
            reasons[reason or "unknown"] = int(count)
    return ItemCounts(states, reasons)


# Why an item was skipped: the status of its outcome now (after this transaction's release).
_REASON = f"""
    coalesce((
        SELECT CASE
            WHEN o.status = '{OutcomeStatus.RELEASED}' THEN
                CASE WHEN o.release_method = '{ReleaseMethod.VOID}'
                     THEN 'voided' ELSE 'already released' END
            WHEN o.status = '{OutcomeStatus.PENDING_RELEASE}' THEN
                CASE WHEN o.schedule_owner IS NOT NULL
                     THEN 'rescheduled' ELSE 'not on this schedule' END
            ELSE 'not pending release (' || o.status || ')'
        END
        FROM outcomes o WHERE o.id = i.outcome_id
    ), 'no such outcome')
"""
_CANCEL_REST = text(
    f"UPDATE release_batch_items SET state = '{BatchItemState.SKIPPED}',"
    " reason = 'cancelled by an operator'"
    " WHERE batch_id = :batch_id"
    f" AND state IN ('{BatchItemState.PENDING}', '{BatchItemState.SCHEDULED}')"
)
_MARK = text(
    "UPDATE release_batch_items SET state = :state"
    " WHERE batch_id = :batch_id AND outcome_id = ANY(:ids)"
)
_SKIP = text(
    f"UPDATE release_batch_items i SET state = '{BatchItemState.SKIPPED}', reason = {_REASON}"
    " WHERE i.batch_id = :batch_id AND i.outcome_id = ANY(:ids)"
)
_SKIP_REST = text(
    f"UPDATE release_batch_items i SET state = '{BatchItemState.SKIPPED}', reason = {_REASON}"
    " WHERE i.batch_id = :batch_id AND i.state = :state"
)


def mark_items(
    session: Session, batch_id: str, outcome_ids: Collection[str], state: BatchItemState
) -> None:
    """One statement for every item of these outcomes."""
    if outcome_ids:
        session.execute(_MARK, {"batch_id": batch_id, "ids": sorted(outcome_ids), "state": state})


def skip_items(session: Session, batch_id: str, outcome_ids: Collection[str]) -> None:
    """Skipped items keep why: the outcome's status now (released, voided, moved, absent)."""
    if outcome_ids:
        session.execute(_SKIP, {"batch_id": batch_id, "ids": sorted(outcome_ids)})


def skip_rest(session: Session, batch_id: str, state: BatchItemState) -> None:
    """Skip every item still in `state`, with why, in one statement."""
    session.execute(_SKIP_REST, {"batch_id": batch_id, "state": state})


def cancel_rest(session: Session, batch_id: str) -> None:
    """Skip every item not yet released: an operator cancelled the batch."""
    session.execute(_CANCEL_REST, {"batch_id": batch_id})
