"""Batch writes on real PostgreSQL: set-based, once per outcome, the same rows on a retry."""

import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.outcome_batch import OutcomeBatchActivities
from api.services.outcome_release import _record_batch
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, ReleaseMethod, ReleaseMode
from models.action import Action, open_action
from models.event import AuditEntry, OutboxEvent
from models.outcome import Outcome, OutcomeRef, ReleaseBatchItem, action_key
from models.outcome_release import release_outcomes, take_schedule
from tests.support.outcome_seed import Records, seed_records
from tests.support.seed import T0
from workflows.payloads.outcome import BatchCounts, ReleaseBatchChunkInput, ScheduleBatchInput

RELEASER = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))
RELEASE_AT = T0 + timedelta(days=7)


def _outcome(db: Engine, records: Records, status: str, **values: Any) -> str:
    """One result in `status`, with its releaser's to-do when pending release."""
    outcome_id = str(uuid.uuid4())
    with Session(db) as session, session.begin():
        session.add(
            Outcome(
                **{
                    "id": outcome_id,
                    "kind": "result",
                    "candidate_id": records.candidate_id,
                    "element_id": records.element_id,
                    "grade": "MERIT",
                    "status": status,
                    "submitted_by": "assessor-1",
                    "submitted_at": T0,
                    "completed_at": T0,
                    "created_at": T0,
                    "updated_at": T0,
                    **values,
                }
            )
        )
        session.flush()
        if status == "PENDING_RELEASE":
            open_action(
                session,
                key=action_key("result", outcome_id),
                kind="result_pending_release",
                subject_kind="result",
                subject_id=outcome_id,
                role="releaser",
                title="Release",
                at=T0,
            )
    return outcome_id


def _batch(db: Engine, ids: list[str]) -> str:
    batch_id = str(uuid.uuid4())
    refs = [OutcomeRef(kind=OutcomeKind.RESULT, id=i) for i in ids]
    _record_batch(db, RELEASER, refs, batch_id, ReleaseMode.SCHEDULED, RELEASE_AT, T0)
    return batch_id


def _rows(db: Engine) -> tuple[list[AuditEntry], list[OutboxEvent], dict[str, str]]:
    """Every audit row and event in id order, and each to-do's status."""
    with Session(db) as session:
        audits = list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())
        events = list(session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all())
        todos = dict(session.exec(select(Action.subject_id, Action.status)).all())
    return audits, events, todos


def _items(db: Engine, batch_id: str) -> dict[str, tuple[str, str | None]]:
    with Session(db) as session:
        rows = session.exec(
            select(ReleaseBatchItem).where(ReleaseBatchItem.batch_id == batch_id)
        ).all()
    return {item.outcome_id: (item.state, item.reason) for item in rows}


def _as_if_not_done(db: Engine, batch_id: str, status: str, state: str) -> None:
    """Put the batch and its items back as they were before a committed call (a lost reply
    whose retry would not be caught by the state checks): only the keys stop a second write."""
    with db.begin() as conn:
        conn.execute(
            text("UPDATE release_batches SET status = :status WHERE id = :id"),
            {"status": status, "id": batch_id},
        )
        conn.execute(
            text(
                "UPDATE release_batch_items SET state = :state, reason = NULL WHERE batch_id = :id"
            ),
            {"state": state, "id": batch_id},
        )


def _schedule(db: Engine, batch_id: str) -> BatchCounts:
    command = ScheduleBatchInput(
        batch_id=batch_id, release_at=RELEASE_AT, actor="releaser-1", at=T0
    )
    activities = OutcomeBatchActivities(db, cast(Client, None))
    return ActivityEnvironment().run(activities.schedule_release_batch, command)


def _chunk(db: Engine, batch_id: str, limit: int) -> BatchCounts:
    command = ReleaseBatchChunkInput(
        batch_id=batch_id,
        method=ReleaseMethod.SCHEDULED,
        release_at=RELEASE_AT,
        actor="system",
        limit=limit,
        at=RELEASE_AT,
    )
    activities = OutcomeBatchActivities(db, cast(Client, None))
    return ActivityEnvironment().run(activities.release_batch_chunk, command)


def test_scheduling_a_batch_writes_each_row_once_and_no_grade(db: Engine) -> None:
    records = seed_records(db, auto_release=False)
    pending = sorted(_outcome(db, records, "PENDING_RELEASE") for _ in range(4))
    voided = _outcome(db, records, "RELEASED", released_at=T0, release_method="VOID", grade="VOID")
    in_qa = _outcome(db, records, "IN_QA")
    missing = str(uuid.uuid4())
    batch_id = _batch(db, [*pending, voided, in_qa, missing])

    counts = _schedule(db, batch_id)

    assert (counts.total, counts.scheduled, counts.skipped, counts.pending) == (7, 4, 3, 0)
    assert _items(db, batch_id) == {
        **dict.fromkeys(pending, ("SCHEDULED", None)),
        voided: ("SKIPPED", "voided"),
        in_qa: ("SKIPPED", "not pending release (IN_QA)"),
        missing: ("SKIPPED", "no such outcome"),
    }
    audits, events, todos = _rows(db)
    release_at = RELEASE_AT.isoformat()
    detail = {"release_at": release_at, "batch_id": batch_id}
    keys = [f"result:{i}:scheduled:{release_at}:batch:{batch_id}" for i in pending]
    assert [(a.subject_id, a.dedupe_key) for a in audits] == list(zip(pending, keys, strict=True))
    assert {(a.subject_kind, a.at, a.actor, a.action) for a in audits} == {
        ("result", T0, "releaser-1", "release_scheduled")
    }
    assert all(a.detail == detail for a in audits)
    assert [(e.subject, e.dedupe_key) for e in events] == list(zip(pending, keys, strict=True))
    assert [e.data for e in events] == [{"id": i, "kind": "result", **detail} for i in pending]
    assert {(e.type, e.occurred_at) for e in events} == {("result.release_scheduled", T0)}
    assert set(todos.values()) == {"OPEN"}
    with Session(db) as session:
        owners = session.exec(
            select(Outcome.schedule_owner, Outcome.scheduled_release_at).where(
                col(Outcome.id).in_(pending)
            )
        ).all()
    assert set(owners) == {(f"batch:{batch_id}", RELEASE_AT)}

    retried = _schedule(db, batch_id)  # the batch is SCHEDULED: the retry only counts
    _as_if_not_done(db, batch_id, "QUEUED", "PENDING")
    forced = _schedule(db, batch_id)  # everything runs again: the keys hold

    assert retried == counts
    assert forced == counts
    again_audits, again_events, _ = _rows(db)
    assert [a.id for a in again_audits] == [a.id for a in audits]
    assert [e.id for e in again_events] == [e.id for e in events]


def test_a_retried_release_chunk_writes_nothing_twice(db: Engine) -> None:
    records = seed_records(db, auto_release=False)
    pending = [_outcome(db, records, "PENDING_RELEASE") for _ in range(5)]
    batch_id = _batch(db, pending)
    _schedule(db, batch_id)
    by_hand, moved = pending[1], pending[3]
    with Session(db) as session, session.begin():  # before the instant
        release_outcomes(session, [by_hand], method=ReleaseMethod.MANUAL, at=T0, actor="releaser-2")
        take_schedule(
            session, [moved], owner="outcome", release_at=RELEASE_AT + timedelta(days=1), at=T0
        )
    first = _chunk(db, batch_id, 2)

    assert (first.released, first.skipped, first.scheduled) == (1, 1, 3)
    last = first
    while last.scheduled:
        last = _chunk(db, batch_id, 2)
    retried = _chunk(db, batch_id, 2)  # the reply to the last chunk was lost

    assert (last.released, last.skipped, last.scheduled, last.pending) == (3, 2, 0, 0)
    assert retried == last
    items = _items(db, batch_id)
    assert items[by_hand] == ("SKIPPED", "already released")
    assert items[moved] == ("SKIPPED", "rescheduled")
    audits, events, todos = _rows(db)
    mine = [pending[0], pending[2], pending[4]]  # one per chunk of two, in position order
    releases = [e for e in events if e.type == "result.released" and e.subject != by_hand]
    assert [e.subject for e in releases] == mine
    for event in releases:
        assert event.dedupe_key == f"result:{event.subject}:released"
        assert event.data == {
            "id": event.subject,
            "kind": "result",
            "candidate_id": records.candidate_id,
            "element_id": records.element_id,
            "grade": "MERIT",
            "release_method": "SCHEDULED",
            "released_at": RELEASE_AT.isoformat(),
        }
    release_audits = [a for a in audits if a.action == "released" and a.actor == "system"]
    assert [a.subject_id for a in release_audits] == mine
    assert all(
        a.detail == {"release_method": "SCHEDULED", "released_at": RELEASE_AT.isoformat()}
        for a in release_audits
    )
    assert todos == dict.fromkeys([i for i in pending if i != moved], "DONE") | {moved: "OPEN"}

    _as_if_not_done(db, batch_id, "RUNNING", "SCHEDULED")
    while (forced := _chunk(db, batch_id, 2)).scheduled:
        pass

    again_audits, again_events, again_todos = _rows(db)
    assert [(a.id, a.dedupe_key) for a in again_audits] == [(a.id, a.dedupe_key) for a in audits]
    assert [(e.id, e.dedupe_key) for e in again_events] == [(e.id, e.dedupe_key) for e in events]
    assert again_todos == todos
    assert (forced.released, forced.skipped) == (0, 5)  # each was released once, already
    with Session(db) as session:
        stamps = session.exec(
            select(Outcome.id, Outcome.released_at, Outcome.release_method).where(
                col(Outcome.id).in_(mine)
            )
        ).all()
    assert {(at, method) for _, at, method in stamps} == {(RELEASE_AT, "SCHEDULED")}
