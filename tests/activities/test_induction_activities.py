"""Induction activities on real PostgreSQL: reports as received, claims, discrepancies."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.induction import InductionActivities
from domain.induction import InductionField, ProgrammeType, ReportKind
from models.action import Action, ActionStatus
from models.event import AuditEntry, OutboxEvent
from models.induction import InductionClaim, InductionDiscrepancy, InductionReport
from tests.support.seed import T0
from workflows.payloads.induction import (
    InductionRecorded,
    RecordAbClaimReminderInput,
    RecordInductionReportInput,
)

TRN = "1234567"


def _school(
    ab: str = "ab-1", programme: str = "school_led", **kw: object
) -> RecordInductionReportInput:
    return RecordInductionReportInput.model_validate(
        {
            "trn": TRN,
            "report_id": str(uuid.uuid4()),
            "kind": ReportKind.SCHOOL_REPORT,
            "reporter": "school-1",
            "actor": "sam",
            "appropriate_body_id": ab,
            "programme_type": programme,
            "start_date": date(2025, 9, 1),
            "at": T0,
            **kw,
        }
    )


def _claim(ab: str, programme: str = "provider_led", **kw: object) -> RecordInductionReportInput:
    return RecordInductionReportInput.model_validate(
        {
            "trn": TRN,
            "report_id": str(uuid.uuid4()),
            "kind": ReportKind.AB_CLAIM,
            "reporter": ab,
            "actor": f"{ab}-user",
            "appropriate_body_id": ab,
            "programme_type": programme,
            "started_on": date(2025, 9, 3),
            "at": T0 + timedelta(days=2),
            **kw,
        }
    )


def _run(db: Engine, command: RecordInductionReportInput) -> InductionRecorded:
    return ActivityEnvironment().run(InductionActivities(db).record_induction_report, command)


def _count(db: Engine, table: type) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _rows(db: Engine, table: type) -> list:  # type: ignore[type-arg]
    with Session(db) as session:
        return list(session.exec(select(table)).all())


def test_a_retried_report_is_stored_once(db: Engine) -> None:
    command = _school()

    first = _run(db, command)
    retry = _run(db, command)

    assert retry == first
    assert [_count(db, t) for t in (InductionReport, AuditEntry, OutboxEvent)] == [1, 1, 1]
    event = _rows(db, OutboxEvent)[0]
    assert (event.type, event.occurred_at, event.subject) == ("induction.school_reported", T0, TRN)


def test_a_differing_claim_opens_two_discrepancies_each_with_an_action_and_event(
    db: Engine,
) -> None:
    _run(db, _school())
    claimed = _claim("ab-2")
    _run(db, claimed)
    _run(db, claimed)  # retried: nothing twice

    discrepancies = sorted(_rows(db, InductionDiscrepancy), key=lambda d: d.field)
    assert [(d.field, d.school_value, d.ab_value) for d in discrepancies] == [
        ("appropriate_body_id", "ab-1", "ab-2"),
        ("programme_type", "school_led", "provider_led"),
    ]
    assert {(d.school_reporter, d.ab_reporter, d.detected_at) for d in discrepancies} == {
        ("school-1", "ab-2", claimed.at)
    }
    actions = _rows(db, Action)
    assert {(a.kind, a.role, a.org, a.status) for a in actions} == {
        ("induction.discrepancy", "school", "school-1", "OPEN")
    }
    assert len(actions) == 2
    events = [e for e in _rows(db, OutboxEvent) if e.type == "induction.discrepancy"]
    assert sorted(e.data["field"] for e in events) == ["appropriate_body_id", "programme_type"]
    assert len(_rows(db, InductionReport)) == 2  # both reports kept as received


def test_a_school_correcting_its_report_resolves_the_discrepancies_and_closes_actions(
    db: Engine,
) -> None:
    _run(db, _school())
    _run(db, _claim("ab-2"))
    fixed_at = T0 + timedelta(days=5)

    result = _run(db, _school("ab-2", "provider_led", at=fixed_at))

    assert result.snapshot.open_discrepancies == []
    assert {(d.resolved_at, d.resolution) for d in _rows(db, InductionDiscrepancy)} == {
        (fixed_at, "agreed")
    }
    assert {(a.status, a.closed_at) for a in _rows(db, Action)} == {
        (ActionStatus.DONE.value, fixed_at)
    }
    with Session(db) as session:
        first = session.exec(select(InductionReport).order_by(col(InductionReport.seq))).first()
    assert first is not None
    assert first.appropriate_body_id == "ab-1"  # the first report was never overwritten


def test_a_release_resolves_open_discrepancies_and_a_new_claim_may_differ_again(
    db: Engine,
) -> None:
    _run(db, _school())
    _run(db, _claim("ab-2", "school_led"))
    release = _claim("ab-2", kind=ReportKind.AB_RELEASE, programme_type=None, started_on=None)
    _run(db, release)
    result = _run(db, _claim("ab-3", "school_led", at=T0 + timedelta(days=9)))

    rows = sorted(_rows(db, InductionDiscrepancy), key=lambda d: d.id)
    assert [(d.ab_value, d.resolution) for d in rows] == [
        ("ab-2", "claim_released"),
        ("ab-3", None),
    ]
    assert result.snapshot.claimed_by == "ab-3"
    claims = sorted(_rows(db, InductionClaim), key=lambda c: c.claimed_at)
    assert [(c.appropriate_body_id, c.released_at is None) for c in claims] == [
        ("ab-2", False),
        ("ab-3", True),
    ]


def test_the_database_refuses_a_claim_while_another_ab_holds_one(db: Engine) -> None:
    _run(db, _claim("ab-1"))

    with pytest.raises(ApplicationError) as refused:
        _run(db, _claim("ab-2"))
    assert refused.value.type == "Conflict"
    assert "ab-1 holds an open claim" in refused.value.message

    with pytest.raises(IntegrityError), Session(db) as session, session.begin():
        session.add(InductionClaim(id="x", trn=TRN, appropriate_body_id="ab-2", claimed_at=T0))
    assert _count(db, InductionReport) == 1


def test_the_reminder_is_written_once_and_not_after_a_claim(db: Engine) -> None:
    _run(db, _school())
    remind = RecordAbClaimReminderInput(
        trn=TRN, unclaimed_since=T0, reminder_days=30, at=T0 + timedelta(days=30)
    )
    activities = InductionActivities(db)

    ActivityEnvironment().run(activities.record_ab_claim_reminder, remind)
    ActivityEnvironment().run(activities.record_ab_claim_reminder, remind)

    reminders = [a for a in _rows(db, Action) if a.kind == "induction.ab_claim_reminder"]
    assert [(a.org, a.status, a.created_at) for a in reminders] == [("school-1", "OPEN", remind.at)]
    assert [e.type for e in _rows(db, OutboxEvent)].count("induction.ab_claim_reminder") == 1

    _run(db, _claim("ab-1", "school_led", at=T0 + timedelta(days=31)))
    assert {a.status for a in _rows(db, Action)} == {"DONE"}
    late = remind.model_copy(update={"at": T0 + timedelta(days=32)})
    ActivityEnvironment().run(activities.record_ab_claim_reminder, late)
    assert [e.type for e in _rows(db, OutboxEvent)].count("induction.ab_claim_reminder") == 1


def test_effective_values_come_back_with_every_change(db: Engine) -> None:
    result = _run(db, _claim("ab-1", "school_led"))

    snapshot = result.snapshot
    assert snapshot.effective.of(InductionField.APPROPRIATE_BODY_ID).confirmed
    assert snapshot.effective.of(InductionField.START_DATE).value is None
    assert snapshot.unclaimed_since is None
    assert snapshot.effective.programme_type.value == ProgrammeType.SCHOOL_LED.value
