"""Bulk release activities: set-based, one transaction per chunk, safe to retry."""

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.refusal import refusals_fail_fast
from domain.errors import NotFound
from domain.outcome import OutcomeKind, OutcomeStatus, ReleaseMethod
from models.event import AuditEntry, OutboxEvent, publish, write_audit
from models.outcome import Outcome, ReleaseBatch, ReleaseBatchItem
from models.outcome_release import release_outcomes, take_schedule
from workflows.payloads.outcome import (
    CLOSE_BATCH,
    LIST_RELEASED,
    NOTIFY_RELEASED,
    RELEASE_BATCH_CHUNK,
    SCHEDULE_BATCH,
    BatchCounts,
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


class OutcomeBatchActivities:
    """I/O for OutcomeReleaseBatchWorkflow (the client signals released outcomes)."""

    def __init__(self, engine: Engine, client: Client) -> None:
        self.engine = engine
        self.client = client

    @activity.defn(name=SCHEDULE_BATCH)
    @refusals_fail_fast
    def schedule_release_batch(self, command: ScheduleBatchInput) -> BatchCounts:
        """Point every pending outcome's schedule at the batch; skip the others."""
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            if batch.status != "QUEUED":  # a retry
                return counts_of(session, batch)
            items = session.exec(
                select(ReleaseBatchItem).where(ReleaseBatchItem.batch_id == batch.id)
            ).all()
            owner = f"batch:{batch.id}"
            taken = set(
                take_schedule(
                    session,
                    [item.outcome_id for item in items],
                    owner=owner,
                    release_at=command.release_at,
                    at=command.at,
                )
            )
            _mark(session, batch.id, taken, "SCHEDULED")
            _skip_rest(session, batch.id, "PENDING")
            _record_schedules(session, sorted(taken), batch, command)
            batch.status = "SCHEDULED"
            batch.updated_at = command.at
            session.add(batch)
            return counts_of(session, batch)

    @activity.defn(name=RELEASE_BATCH_CHUNK)
    @refusals_fail_fast
    def release_batch_chunk(self, command: ReleaseBatchChunkInput) -> BatchCounts:
        """Release the next chunk of items, re-checking each outcome in the UPDATE itself."""
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            state = "SCHEDULED" if command.method == ReleaseMethod.SCHEDULED else "PENDING"
            items = session.exec(
                select(ReleaseBatchItem)
                .where(ReleaseBatchItem.batch_id == batch.id, ReleaseBatchItem.state == state)
                .order_by(col(ReleaseBatchItem.position))
                .limit(command.limit)
            ).all()
            scheduled = command.method == ReleaseMethod.SCHEDULED
            released = release_outcomes(
                session,
                [item.outcome_id for item in items],
                method=command.method,
                at=command.at,
                actor=command.actor,
                schedule_owner=f"batch:{batch.id}" if scheduled else None,
                scheduled_at=command.release_at if scheduled else None,
            )
            _mark(session, batch.id, {r.id for r in released}, "RELEASED")
            _skip(session, batch.id, {i.outcome_id for i in items} - {r.id for r in released})
            batch.status = "RUNNING"
            batch.updated_at = command.at
            session.add(batch)
            return counts_of(session, batch)

    @activity.defn(name=LIST_RELEASED)
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

    @activity.defn(name=NOTIFY_RELEASED)
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

    @activity.defn(name=CLOSE_BATCH)
    @refusals_fail_fast
    def close_release_batch(self, command: CloseBatchInput) -> BatchCounts:
        """Mark the batch completed, with its audit row and event."""
        with Session(self.engine) as session, session.begin():
            batch = lock_batch(session, command.batch_id)
            counts = counts_of(session, batch)
            if batch.status != "COMPLETED":
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


def _mark(session: Session, batch_id: str, outcome_ids: set[str], state: str) -> None:
    if outcome_ids:
        session.execute(
            update(ReleaseBatchItem)
            .where(
                col(ReleaseBatchItem.batch_id) == batch_id,
                col(ReleaseBatchItem.outcome_id).in_(outcome_ids),
            )
            .values(state=state)
        )


def _skip(session: Session, batch_id: str, outcome_ids: set[str]) -> None:
    """Skipped items keep why: the outcome's status now (released, voided, moved, absent)."""
    if not outcome_ids:
        return
    found = session.exec(
        select(Outcome.id, Outcome.status, Outcome.release_method, Outcome.schedule_owner).where(
            col(Outcome.id).in_(outcome_ids)
        )
    ).all()
    reasons = {oid: _reason(status, method, owner) for oid, status, method, owner in found}
    by_reason: dict[str, list[str]] = {}
    for outcome_id in outcome_ids:
        by_reason.setdefault(reasons.get(outcome_id, "no such outcome"), []).append(outcome_id)
    for reason, ids in by_reason.items():
        session.execute(
            update(ReleaseBatchItem)
            .where(
                col(ReleaseBatchItem.batch_id) == batch_id,
                col(ReleaseBatchItem.outcome_id).in_(ids),
            )
            .values(state="SKIPPED", reason=reason)
        )


def _skip_rest(session: Session, batch_id: str, state: str) -> None:
    rest = session.exec(
        select(ReleaseBatchItem.outcome_id).where(
            ReleaseBatchItem.batch_id == batch_id, ReleaseBatchItem.state == state
        )
    ).all()
    _skip(session, batch_id, set(rest))


def _reason(status: str, method: str | None, owner: str | None) -> str:
    if status == OutcomeStatus.RELEASED.value:
        return "voided" if method == ReleaseMethod.VOID.value else "already released"
    if status == OutcomeStatus.PENDING_RELEASE.value:
        return "rescheduled" if owner else "not on this schedule"
    return f"not pending release ({status})"


def _record_schedules(
    session: Session, ids: list[str], batch: ReleaseBatch, command: ScheduleBatchInput
) -> None:
    """Audit rows and `{kind}.release_scheduled` events for every outcome taken."""
    if not ids:
        return
    kinds = dict(
        session.exec(select(Outcome.id, Outcome.kind).where(col(Outcome.id).in_(ids))).all()
    )
    release_at = command.release_at.isoformat()
    audits: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for outcome_id in ids:
        kind = kinds[outcome_id]
        key = f"{kind}:{outcome_id}:scheduled:{release_at}:batch:{batch.id}"
        detail = {"release_at": release_at, "batch_id": batch.id}
        audits.append(_row(kind, outcome_id, command.at, command.actor, key, detail))
        events.append(
            {
                "type": f"{kind}.release_scheduled",
                "subject": outcome_id,
                "occurred_at": command.at,
                "dedupe_key": key,
                "data": {"id": outcome_id, "kind": kind, **detail},
            }
        )
    session.execute(insert(AuditEntry).on_conflict_do_nothing(), audits)
    session.execute(insert(OutboxEvent).on_conflict_do_nothing(), events)


def _row(
    kind: str, outcome_id: str, at: datetime, actor: str, key: str, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "subject_kind": kind,
        "subject_id": outcome_id,
        "at": at,
        "actor": actor,
        "action": "release_scheduled",
        "detail": detail,
        "dedupe_key": key,
    }
