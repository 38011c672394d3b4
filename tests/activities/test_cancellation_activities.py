"""Operator-cancel activities on real PostgreSQL: each is one transaction, safe to retry."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Engine, func
from sqlmodel import Session, col, select
from temporalio.testing import ActivityEnvironment

from activities.application import ApplicationActivities
from activities.cancellation import CancellationActivities
from activities.checklist_sync import ChecklistSyncActivities
from activities.outcome import OutcomeActivities
from activities.outcome_batch import OutcomeBatchActivities
from activities.sla import SlaActivities
from domain.application import ApplicationStatus
from domain.checklist_sync import SyncStatus
from domain.outcome import (
    BatchStatus,
    Grade,
    OutcomeKind,
    OutcomeStatus,
    ReleaseMethod,
    ReleaseMode,
)
from domain.sla import SlaEventKind, SlaStatus
from models.application import Application
from models.event import AuditEntry, OutboxEvent
from models.outcome import Outcome, ReleaseBatch, ReleaseBatchItem
from models.review import Assignment
from models.sla import SlaInstance, SlaLogEntry
from tests.support.outcome_seed import seed_records
from tests.support.seed import T0, seed_draft, seed_reviewer, seed_template
from workflows.payloads.application import (
    RecordOperatorWithdrawalInput,
    RecordSubmissionInput,
)
from workflows.payloads.cancellation import RecordRefusedCancelInput
from workflows.payloads.checklist_sync import (
    CancelChecklistSyncInput,
    OpenChecklistSyncInput,
    SyncChecklistPageInput,
)
from workflows.payloads.outcome import (
    CancelBatchInput,
    CancelOutcomeScheduleInput,
    RecordOutcomeSubmissionInput,
    RecordScheduleInput,
    ReleaseBatchChunkInput,
    ScheduleBatchInput,
)
from workflows.payloads.sla import AppendSlaEventInput, CancelSlaInput, RecordSlaDueInput

OPERATOR = "ops-jane@casework"
C = TypeVar("C")
R = TypeVar("R")
LATER = T0 + timedelta(days=2)


def _count(engine: Engine, table: type, *where: ColumnElement[bool]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def _twice(activity: Callable[[C], R], command: C) -> tuple[R, R]:
    """The activity run, then retried with the same command (as after a lost completion)."""
    return ActivityEnvironment().run(activity, command), ActivityEnvironment().run(
        activity, command
    )


def test_an_operator_withdrawal_retried_writes_one_row_and_one_event(db: Engine) -> None:
    seed_template(db)
    seed_reviewer(db, "rev-1")
    application_id = seed_draft(db)
    activities = ApplicationActivities(db)
    ActivityEnvironment().run(
        activities.record_submission,
        RecordSubmissionInput(application_id=application_id, actor="alice", submission=1, at=T0),
    )
    command = RecordOperatorWithdrawalInput(
        application_id=application_id, actor=OPERATOR, note="duplicate", at=LATER
    )

    first, retry = _twice(activities.record_operator_withdrawal, command)

    assert first == retry
    assert _count(db, AuditEntry, col(AuditEntry.action) == "withdrawn") == 1
    assert _count(db, OutboxEvent, col(OutboxEvent.type) == "application.withdrawn") == 1
    assert _count(db, Assignment, col(Assignment.closed_at).is_(None)) == 0
    with Session(db) as session:
        application = session.get(Application, application_id)
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "withdrawn")).one()
    assert application is not None
    assert application.status == ApplicationStatus.WITHDRAWN
    assert (audit.actor, audit.at, audit.detail) == (
        OPERATOR,
        LATER,
        {"reason": "CANCELLED_BY_OPERATOR", "note": "duplicate"},
    )


def test_a_cancelled_sla_retried_stops_once_and_records_nothing_after(db: Engine) -> None:
    activities = SlaActivities(db)
    command = CancelSlaInput(
        instance_id="sla-result_complete_to_release-r1",
        definition="result_complete_to_release",
        subject="r1",
        candidate_id=None,
        actor=OPERATOR,
        note=None,
        at=LATER,
    )

    first, retry = _twice(activities.cancel_sla, command)  # never opened: opened, then stopped
    ActivityEnvironment().run(
        activities.append_sla_event,
        AppendSlaEventInput(
            instance_id=command.instance_id, seq=2, kind=SlaEventKind.PAUSE, at=LATER
        ),
    )
    ActivityEnvironment().run(
        activities.record_sla_due,
        RecordSlaDueInput(instance_id=command.instance_id, fraction=1.0, at=LATER),
    )

    assert first == retry
    with Session(db) as session:
        instance = session.exec(select(SlaInstance)).one()
        log = session.exec(select(SlaLogEntry.kind).order_by(col(SlaLogEntry.seq))).all()
    assert (instance.status, instance.stopped_at, instance.breached_at) == (
        SlaStatus.CANCELLED,
        LATER,
        None,
    )
    assert log == ["START", "STOP"]
    assert _count(db, AuditEntry, col(AuditEntry.action) == "sla_cancelled") == 1
    assert _count(db, OutboxEvent) == 1  # sla.cancelled; no breach after the stop


def _scheduled_outcome(db: Engine) -> str:
    records = seed_records(db, auto_release=False)
    activities = OutcomeActivities(db)
    outcome_id = str(uuid.uuid4())
    ActivityEnvironment().run(
        activities.record_outcome_submission,
        RecordOutcomeSubmissionInput(
            kind=OutcomeKind.RESULT,
            outcome_id=outcome_id,
            actor="assessor-1",
            candidate_id=records.candidate_id,
            element_id=records.element_id,
            grade=Grade.PASS,
            sampled_for_qa=False,
            at=T0,
        ),
    )
    ActivityEnvironment().run(
        activities.schedule_outcome_release,
        RecordScheduleInput(
            kind=OutcomeKind.RESULT,
            outcome_id=outcome_id,
            actor="releaser-1",
            release_at=T0 + timedelta(days=30),
            at=T0,
        ),
    )
    return outcome_id


def test_an_outcome_unscheduled_retried_is_not_then_refused(db: Engine) -> None:
    outcome_id = _scheduled_outcome(db)
    command = CancelOutcomeScheduleInput(
        kind=OutcomeKind.RESULT, outcome_id=outcome_id, actor=OPERATOR, note=None, at=LATER
    )

    first, retry = _twice(OutcomeActivities(db).cancel_outcome_schedule, command)

    assert first == retry
    assert _count(db, AuditEntry, col(AuditEntry.action) == "release_unscheduled") == 1
    assert _count(db, AuditEntry, col(AuditEntry.action) == "cancel_refused") == 0
    assert _count(db, OutboxEvent, col(OutboxEvent.type) == "result.release_unscheduled") == 1
    with Session(db) as session:
        outcome = session.get(Outcome, outcome_id)
    assert outcome is not None
    assert (outcome.status, outcome.scheduled_release_at) == (OutcomeStatus.PENDING_RELEASE, None)


def _batch_half_released(db: Engine) -> str:
    """A batch of two pending outcomes, one of them released by its first chunk."""
    ids = [_scheduled_outcome(db) for _ in range(2)]
    batch_id = str(uuid.uuid4())
    with Session(db) as session, session.begin():
        session.add(
            ReleaseBatch(
                id=batch_id,
                mode=ReleaseMode.NOW,
                status=BatchStatus.QUEUED,
                total=2,
                requested_by="releaser-1",
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        for position, outcome_id in enumerate(ids):
            session.add(
                ReleaseBatchItem(
                    batch_id=batch_id,
                    position=position,
                    kind=OutcomeKind.RESULT,
                    outcome_id=outcome_id,
                )
            )
    ActivityEnvironment().run(
        OutcomeBatchActivities(db, None).release_batch_chunk,  # type: ignore[arg-type]
        ReleaseBatchChunkInput(
            batch_id=batch_id,
            method=ReleaseMethod.MANUAL,
            release_at=None,
            actor="releaser-1",
            limit=1,
            at=T0,
        ),
    )
    return batch_id


def test_a_cancelled_batch_retried_keeps_what_was_released_and_releases_no_more(
    db: Engine,
) -> None:
    batch_id = _batch_half_released(db)
    activities = OutcomeBatchActivities(db, None)  # type: ignore[arg-type]
    command = CancelBatchInput(batch_id=batch_id, actor=OPERATOR, note=None, at=LATER)

    first, retry = _twice(activities.cancel_release_batch, command)
    after = ActivityEnvironment().run(
        activities.release_batch_chunk,
        ReleaseBatchChunkInput(
            batch_id=batch_id,
            method=ReleaseMethod.MANUAL,
            release_at=None,
            actor="releaser-1",
            limit=10,
            at=LATER,
        ),
    )

    assert first == retry == after
    assert (after.status, after.released, after.skipped, after.pending) == ("CANCELLED", 1, 1, 0)
    assert _count(db, AuditEntry, col(AuditEntry.action) == "cancelled") == 1
    assert _count(db, OutboxEvent, col(OutboxEvent.type) == "release_batch.cancelled") == 1
    assert _count(db, Outcome, col(Outcome.status) == OutcomeStatus.RELEASED.value) == 1


def test_a_scheduled_batch_cancelled_gives_each_schedule_up_once(db: Engine) -> None:
    ids = [_scheduled_outcome(db) for _ in range(2)]
    batch_id = str(uuid.uuid4())
    release_at = T0 + timedelta(days=5)
    with Session(db) as session, session.begin():
        session.add(
            ReleaseBatch(
                id=batch_id,
                mode=ReleaseMode.SCHEDULED,
                release_at=release_at,
                status=BatchStatus.QUEUED,
                total=2,
                requested_by="releaser-1",
                created_at=T0,
                updated_at=T0,
            )
        )
        session.flush()
        for position, outcome_id in enumerate(ids):
            session.add(
                ReleaseBatchItem(
                    batch_id=batch_id,
                    position=position,
                    kind=OutcomeKind.RESULT,
                    outcome_id=outcome_id,
                )
            )
    activities = OutcomeBatchActivities(db, None)  # type: ignore[arg-type]
    ActivityEnvironment().run(
        activities.schedule_release_batch,
        ScheduleBatchInput(batch_id=batch_id, release_at=release_at, actor="releaser-1", at=T0),
    )
    command = CancelBatchInput(batch_id=batch_id, actor=OPERATOR, note=None, at=LATER)

    _twice(activities.cancel_release_batch, command)

    with Session(db) as session:
        outcomes = session.exec(select(Outcome)).all()
    assert {(o.scheduled_release_at, o.schedule_owner) for o in outcomes} == {(None, None)}
    assert _count(db, OutboxEvent, col(OutboxEvent.type) == "result.release_unscheduled") == 2


def test_a_cancelled_sync_retried_records_once_and_syncs_no_more_pages(db: Engine) -> None:
    activities = ChecklistSyncActivities(db)
    ActivityEnvironment().run(
        activities.open_checklist_sync,
        OpenChecklistSyncInput(
            sync_id="s1", template_code=None, dry_run=False, actor="admin", at=T0
        ),
    )
    command = CancelChecklistSyncInput(
        sync_id="s1",
        template_code=None,
        dry_run=False,
        started_by="admin",
        actor=OPERATOR,
        note=None,
        at=LATER,
    )

    first, retry = _twice(activities.cancel_checklist_sync, command)
    page = ActivityEnvironment().run(
        activities.sync_checklist_page,
        SyncChecklistPageInput(sync_id="s1", page=1, page_size=10, at=LATER),
    )

    assert first == retry == page
    assert (page.status, page.pages) == (SyncStatus.CANCELLED, 0)
    assert _count(db, AuditEntry, col(AuditEntry.action) == "cancelled") == 1
    assert _count(db, OutboxEvent, col(OutboxEvent.type) == "checklist_sync.cancelled") == 1


def test_a_refused_cancel_retried_is_recorded_once(db: Engine) -> None:
    command = RecordRefusedCancelInput(
        subject_kind="induction",
        subject_id="7654321",
        actor=OPERATOR,
        note=None,
        why="the registration goes on",
        at=LATER,
    )

    _twice(CancellationActivities(db, None).record_refused_cancel, command)  # type: ignore[arg-type]

    assert _count(db, AuditEntry, col(AuditEntry.action) == "cancel_refused") == 1
