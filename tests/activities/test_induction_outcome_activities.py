"""Induction outcomes on real PostgreSQL: stored once, refused under the lock, closed for good."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError

from domain.induction import InductionOutcome, InductionStatus, ReportKind
from models.event import OutboxEvent
from models.induction import Induction, InductionReport
from tests.activities.test_induction_activities import TRN, _claim, _count, _run, _school
from tests.support.seed import T0
from workflows.payloads.induction import RecordInductionReportInput


def _outcome(ab: str, outcome: InductionOutcome, **kw: object) -> RecordInductionReportInput:
    return RecordInductionReportInput.model_validate(
        {
            "trn": TRN,
            "report_id": str(uuid.uuid4()),
            "kind": ReportKind.OUTCOME,
            "reporter": ab,
            "actor": f"{ab}-user",
            "appropriate_body_id": ab,
            "outcome": outcome,
            "completed_on": (T0 + timedelta(days=3)).date(),
            "at": T0 + timedelta(days=5),
            **kw,
        }
    )


def _completed(db: Engine) -> list[OutboxEvent]:
    with Session(db) as session:
        query = select(OutboxEvent).where(OutboxEvent.type == "induction.completed")
        return list(session.exec(query).all())


def test_a_retried_outcome_is_stored_once_and_closes_the_row(db: Engine) -> None:
    _run(db, _school())
    _run(db, _claim("ab-1", started_on=T0.date()))
    passed = _outcome("ab-1", InductionOutcome.PASSED)

    first, retry = _run(db, passed), _run(db, passed)

    assert first == retry
    assert (first.snapshot.status, first.snapshot.outcome) == ("CLOSED", "PASSED")
    assert len(_completed(db)) == 1
    with Session(db) as session:
        row = session.get(Induction, TRN)
        assert row is not None
        assert (row.status, row.outcome) == (InductionStatus.CLOSED, InductionOutcome.PASSED)


@pytest.mark.parametrize(
    ("command", "kind", "says"),
    [
        pytest.param(lambda: _outcome("ab-1", InductionOutcome.FAILED), "Conflict", "PASSED"),
        pytest.param(lambda: _outcome("ab-2", InductionOutcome.FAILED), "Forbidden", "ab-2"),
        pytest.param(lambda: _claim("ab-2"), "Conflict", "closed"),
    ],
    ids=["second outcome", "another AB", "a claim"],
)
def test_after_closing_the_lock_refuses_and_writes_nothing(
    db: Engine, command: Callable[[], RecordInductionReportInput], kind: str, says: str
) -> None:
    _run(db, _school())
    _run(db, _claim("ab-1", started_on=T0.date()))
    _run(db, _outcome("ab-1", InductionOutcome.PASSED))
    stored = _count(db, InductionReport), _count(db, OutboxEvent)

    with pytest.raises(ApplicationError) as refused:
        _run(db, command())

    assert refused.value.type == kind
    assert says in str(refused.value)
    assert (_count(db, InductionReport), _count(db, OutboxEvent)) == stored


def test_completed_on_before_the_start_is_refused_under_the_lock(db: Engine) -> None:
    _run(db, _school())
    _run(db, _claim("ab-1"))

    with pytest.raises(ApplicationError) as refused:
        _run(db, _outcome("ab-1", InductionOutcome.PASSED, completed_on=date(2025, 8, 1)))

    assert refused.value.type == "Invalid"
    assert _completed(db) == []


def test_the_database_holds_one_closing_outcome_per_teacher(db: Engine) -> None:
    _run(db, _school())
    _run(db, _claim("ab-1", started_on=T0.date()))
    _run(db, _outcome("ab-1", InductionOutcome.FAILED))

    with Session(db) as session, pytest.raises(IntegrityError), session.begin():
        session.execute(
            text(
                "INSERT INTO induction_reports (id, trn, seq, kind, reporter, actor, outcome,"
                " received_at) VALUES ('x', :trn, 99, 'outcome', 'ab-1', 'a', 'PASSED', now())"
            ),
            {"trn": TRN},
        )
    with Session(db) as session:
        kinds = session.exec(
            select(InductionReport.outcome).where(col(InductionReport.kind) == ReportKind.OUTCOME)
        ).all()
    assert kinds == [InductionOutcome.FAILED]
