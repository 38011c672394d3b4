"""Application activities on real PostgreSQL: one transaction each, idempotent on retry."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.application import ApplicationActivities
from domain.application import ApplicationStatus
from models.application import Application
from models.assessment import Assessment, AssessmentSection
from models.event import AuditEntry, OutboxEvent
from tests.support.seed import T0, seed_draft, seed_template
from workflows.payloads.application import RecordSubmissionInput, RecordWithdrawalInput


def _count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_a_retried_submission_writes_nothing_twice(db: Engine) -> None:
    seed_template(db)
    application_id = seed_draft(db)
    activities = ApplicationActivities(db)
    command = RecordSubmissionInput(
        application_id=application_id, actor="alice", submission=1, at=T0
    )

    first = ActivityEnvironment().run(activities.record_submission, command)
    retry = ActivityEnvironment().run(activities.record_submission, command)

    assert retry == first
    counts = [_count(db, t) for t in (Assessment, AssessmentSection, AuditEntry, OutboxEvent)]
    assert counts == [1, 2, 2, 1]  # audit: submitted, level_reached


def test_rows_are_stamped_with_the_time_the_workflow_passes(db: Engine) -> None:
    seed_template(db)
    application_id = seed_draft(db)
    at = T0 + timedelta(days=3)

    ActivityEnvironment().run(
        ApplicationActivities(db).record_submission,
        RecordSubmissionInput(application_id=application_id, actor="alice", submission=1, at=at),
    )

    with Session(db) as session:
        application = session.get(Application, application_id)
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "submitted")).one()
        event = session.exec(select(OutboxEvent)).one()
        assessment = session.exec(select(Assessment)).one()
    assert application is not None
    assert application.submitted_at == application.updated_at == at
    assert audit.at == event.occurred_at == assessment.created_at == at
    assert event.type == "application.submitted"
    assert event.data["application_id"] == application_id


def test_the_assessment_snapshots_each_section_with_its_preliminary_flag(db: Engine) -> None:
    from tests.support.builders import make_template

    sections = make_template()["sections"]
    sections[0] = {**sections[0], "preliminary": True}
    seed_template(
        db,
        sections=sections,
        stages=[
            {"code": "pre", "name": "Pre-assessment", "levels": 1, "pre_assessment": True},
            {"code": "assessment", "name": "Assessment", "levels": 2},
        ],
    )
    application_id = seed_draft(db)

    result = ActivityEnvironment().run(
        ApplicationActivities(db).record_submission,
        RecordSubmissionInput(application_id=application_id, actor="alice", submission=1, at=T0),
    )

    assert result.snapshot.stage == "pre"
    assert result.snapshot.assessment_status == "PRE_ASSESSMENT"
    with Session(db) as session:
        rows = session.exec(
            select(AssessmentSection).order_by(col(AssessmentSection.position))
        ).all()
    assert [(r.code, r.preliminary) for r in rows] == [
        ("personal", True),
        ("qualifications", False),
    ]
    assert rows[1].failure_reasons == [
        {"code": "no_degree", "label": "No degree", "kind": "decline"}
    ]


def test_a_broken_data_rule_is_a_non_retryable_failure_that_writes_nothing(db: Engine) -> None:
    seed_template(db)
    application_id = seed_draft(db, complete=False)

    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(
            ApplicationActivities(db).record_submission,
            RecordSubmissionInput(
                application_id=application_id, actor="alice", submission=1, at=T0
            ),
        )

    assert refused.value.non_retryable
    assert refused.value.type == "Invalid"
    assert [_count(db, t) for t in (Assessment, AuditEntry, OutboxEvent)] == [0, 0, 0]


def test_withdrawal_is_idempotent(db: Engine) -> None:
    seed_template(db)
    application_id = seed_draft(db)
    activities = ApplicationActivities(db)
    command = RecordWithdrawalInput(
        application_id=application_id, actor="alice", reason="moved abroad", at=T0
    )

    ActivityEnvironment().run(activities.record_withdrawal, command)
    again = ActivityEnvironment().run(activities.record_withdrawal, command)

    assert again.status == ApplicationStatus.WITHDRAWN
    assert _count(db, AuditEntry) == _count(db, OutboxEvent) == 1
