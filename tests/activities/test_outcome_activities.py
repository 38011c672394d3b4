"""Outcome activities on real PostgreSQL: idempotent, stamped with `at`, released once."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.outcome import OutcomeActivities
from domain.outcome import Grade, OutcomeKind, OutcomeStatus, ReleaseMethod
from models.action import Action
from models.event import AuditEntry, OutboxEvent
from models.outcome import Outcome
from models.outcome_release import backfill_legacy
from tests.support.outcome_seed import Records, seed_records
from tests.support.seed import T0
from workflows.payloads.outcome import (
    RecordOutcomeSubmissionInput,
    RecordReleaseInput,
    RecordScheduleInput,
)

ROOT = Path(__file__).resolve().parents[2]


def _count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _submission(records: Records, **overrides: object) -> RecordOutcomeSubmissionInput:
    values: dict[str, object] = {
        "kind": OutcomeKind.RESULT,
        "outcome_id": str(uuid.uuid4()),
        "actor": "assessor-1",
        "candidate_id": records.candidate_id,
        "element_id": records.element_id,
        "grade": Grade.PASS,
        "sampled_for_qa": False,
        "at": T0,
    }
    values.update(overrides)
    return RecordOutcomeSubmissionInput.model_validate(values)


def test_a_retried_submission_writes_nothing_twice(db: Engine) -> None:
    records = seed_records(db, auto_release=False)
    activities = OutcomeActivities(db)
    command = _submission(records)

    first = ActivityEnvironment().run(activities.record_outcome_submission, command)
    retry = ActivityEnvironment().run(activities.record_outcome_submission, command)

    assert retry == first
    assert first.status == OutcomeStatus.PENDING_RELEASE
    counts = [_count(db, t) for t in (Outcome, Action, AuditEntry, OutboxEvent)]
    assert counts == [1, 1, 2, 2]  # submitted, pending_release


def test_rows_are_stamped_with_the_time_the_workflow_passes(db: Engine) -> None:
    records = seed_records(db)
    at = T0 + timedelta(days=3)
    command = _submission(records, at=at)

    ActivityEnvironment().run(OutcomeActivities(db).record_outcome_submission, command)

    with Session(db) as session:
        outcome = session.get(Outcome, command.outcome_id)
        audits = session.exec(select(AuditEntry.at)).all()
        events = session.exec(select(OutboxEvent.occurred_at)).all()
    assert outcome is not None
    assert outcome.submitted_at == outcome.completed_at == outcome.released_at == at
    assert set(audits) == set(events) == {at}


def test_a_release_happens_exactly_once_whatever_asks_for_it(db: Engine) -> None:
    records = seed_records(db, auto_release=False)
    activities = OutcomeActivities(db)
    submitted = ActivityEnvironment().run(
        activities.record_outcome_submission, _submission(records)
    )
    at = T0 + timedelta(days=1)
    release_at = T0 + timedelta(days=30)
    schedule = RecordScheduleInput(
        kind=OutcomeKind.RESULT,
        outcome_id=submitted.outcome_id,
        actor="releaser-1",
        release_at=release_at,
        at=at,
    )
    ActivityEnvironment().run(activities.schedule_outcome_release, schedule)
    manual = RecordReleaseInput(
        kind=OutcomeKind.RESULT,
        outcome_id=submitted.outcome_id,
        actor="releaser-1",
        method=ReleaseMethod.MANUAL,
        at=at,
    )
    timer = manual.model_copy(
        update={"method": ReleaseMethod.SCHEDULED, "scheduled_at": release_at, "at": release_at}
    )

    released = ActivityEnvironment().run(activities.release_outcome, manual)
    retried = ActivityEnvironment().run(activities.release_outcome, manual)
    fired = ActivityEnvironment().run(activities.release_outcome, timer)
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(
            activities.release_outcome, manual.model_copy(update={"at": at + timedelta(hours=1)})
        )

    assert released == retried == fired
    assert released.release_method == ReleaseMethod.MANUAL
    assert refused.value.type == "Conflict"
    with Session(db) as session:
        releases = session.exec(select(AuditEntry).where(AuditEntry.action == "released")).all()
        events = session.exec(
            select(OutboxEvent).where(OutboxEvent.type == "result.released")
        ).all()
    assert len(releases) == len(events) == 1
    assert events[0].data["grade"] == "PASS"


def test_legacy_backfill_records_legacy_once(db: Engine) -> None:
    records = seed_records(db)
    with Session(db) as session, session.begin():
        for n, status in enumerate(
            [OutcomeStatus.PENDING_RELEASE, OutcomeStatus.SUBMITTED, OutcomeStatus.IN_QA]
        ):
            session.add(
                Outcome(
                    id=f"legacy-{n}",
                    kind=OutcomeKind.RESULT,
                    candidate_id=records.candidate_id,
                    element_id=records.element_id,
                    grade=Grade.PASS,
                    status=status,
                    tracked=False,
                    submitted_by="old-system",
                    submitted_at=T0,
                    completed_at=None if status == "IN_QA" else T0 + timedelta(days=n),
                    created_at=T0,
                    updated_at=T0,
                )
            )

    first = backfill_legacy(db, at=T0 + timedelta(days=100))
    second = backfill_legacy(db, at=T0 + timedelta(days=101))

    assert (first, second) == (2, 0)
    with Session(db) as session:
        rows = {o.id: o for o in session.exec(select(Outcome)).all()}
    assert rows["legacy-0"].release_method == rows["legacy-1"].release_method == "LEGACY"
    assert rows["legacy-1"].released_at == T0 + timedelta(days=1)  # released when completed
    assert rows["legacy-2"].status == "IN_QA"
    assert _count(db, AuditEntry) == 2


def test_the_backfill_command_is_safe_to_re_run(db: Engine, database_url: str) -> None:
    records = seed_records(db)
    with Session(db) as session, session.begin():
        session.add(
            Outcome(
                id="legacy-cli",
                kind=OutcomeKind.CERTIFICATION,
                candidate_id=records.candidate_id,
                grade=Grade.MERIT,
                status=OutcomeStatus.PENDING_RELEASE,
                tracked=False,
                submitted_by="old-system",
                submitted_at=T0,
                completed_at=T0,
                created_at=T0,
                updated_at=T0,
            )
        )
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "cli.py", "backfill-legacy-releases"]
    runs = [
        subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        for _ in range(2)
    ]
    assert [run.stdout.split()[0] for run in runs] == ["1", "0"]
    with Session(db) as session:
        outcome = session.get(Outcome, "legacy-cli")
    assert outcome is not None
    assert outcome.release_method == "LEGACY"
