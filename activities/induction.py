"""Induction activities: store each report as received, claims, discrepancies, reminders."""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from activities.base import EngineActivities, transaction_activity
from activities.rows import row_from
from domain.induction import (
    CLOSING_OUTCOMES,
    ClosureField,
    Difference,
    InductionField,
    InductionOutcome,
    InductionStatus,
    OutcomeClaim,
    Report,
    ReportKind,
    check_claim,
    check_outcome,
    check_release,
    claim_holder,
    differences,
    discrepancy_field,
    effective,
    holding,
    reconcile,
    reminder_due_at,
    standing,
    unclaimed_since,
)
from models.action import Action, ActionStatus, open_action, set_action_status
from models.event import Change
from models.induction import (
    Induction,
    InductionClaim,
    InductionDiscrepancy,
    InductionReport,
    open_discrepancies_of,
    reports_of,
)
from models.views import view_of
from workflows.payloads.induction import (
    InductionRecorded,
    InductionSnapshot,
    RecordAbClaimReminderInput,
    RecordInductionReportInput,
)

SUBJECT = "induction"
DISCREPANCY = "induction.discrepancy"
REMINDER = "induction.ab_claim_reminder"
_ACTION_OF = {
    ReportKind.SCHOOL_REPORT: "school_reported",
    ReportKind.AB_CLAIM: "ab_claimed",
    ReportKind.AB_RELEASE: "ab_released",
    ReportKind.MIGRATED: "migrated_reported",
    ReportKind.OUTCOME: "completed",  # event induction.completed
}
# What changes a teacher's registration: a report, or the reminder that none has come.
InductionCommand = RecordInductionReportInput | RecordAbClaimReminderInput
_LABEL = {
    InductionField.APPROPRIATE_BODY_ID: "appropriate body",
    InductionField.PROGRAMME_TYPE: "programme type",
}


class InductionActivities(EngineActivities):
    """I/O for InductionRegistrationWorkflow: one transaction per call, idempotent."""

    @transaction_activity
    def record_induction_report(
        self, session: Session, command: RecordInductionReportInput
    ) -> InductionRecorded:
        """Lock the teacher, check the claim rule, store the report, reconcile discrepancies."""
        return record_report(session, command)

    @transaction_activity
    def record_ab_claim_reminder(
        self, session: Session, command: RecordAbClaimReminderInput
    ) -> InductionSnapshot:
        """Remind the school (event, action, audit) unless an AB claimed meanwhile."""
        induction = _lock(session, command.trn, command.at)
        rows = reports_of(session, command.trn)
        key = reminder_key(command.trn, command.unclaimed_since)
        still_waiting = unclaimed_since(_domain(rows)) == command.unclaimed_since
        if still_waiting and session.exec(select(Action).where(Action.key == key)).first() is None:
            _remind(session, induction, rows, command, key)
        return snapshot_of(session, induction)


def record_report(session: Session, command: RecordInductionReportInput) -> InductionRecorded:
    """Store one report under the teacher's lock (once per report id), in the caller's
    transaction: the activity's, or the API's for a closed induction (no workflow left)."""
    induction = _lock(session, command.trn, command.at)
    if session.get(InductionReport, command.report_id) is None:  # else: a retry
        _store(session, induction, command)
    return InductionRecorded(report_id=command.report_id, snapshot=snapshot_of(session, induction))


def reminder_key(trn: str, unclaimed_since: datetime) -> str:
    """The reminder's to-do key: one per teacher and wait for a claim."""
    return _key(trn, f"ab_claim_reminder:{unclaimed_since.isoformat()}")


def _key(trn: str, suffix: str) -> str:
    """The business key of one change to teacher `trn` (audit row, event, to-do)."""
    return f"induction:{trn}:{suffix}"


def _lock(session: Session, trn: str, at: datetime) -> Induction:
    """The teacher's row, created on first use, locked for this transaction."""
    session.execute(
        insert(Induction)
        .values(trn=trn, revision=0, created_at=at, updated_at=at)
        .on_conflict_do_nothing(index_elements=["trn"])
    )
    return session.exec(select(Induction).where(Induction.trn == trn).with_for_update()).one()


def _domain(rows: list[InductionReport]) -> list[Report]:
    return [row.as_report() for row in rows]


def _bump(session: Session, induction: Induction, at: datetime) -> int:
    induction.revision += 1
    induction.updated_at = at
    session.add(induction)
    return induction.revision


def _store(session: Session, induction: Induction, command: RecordInductionReportInput) -> None:
    """Append the report; open, amend or end the claim; then reconcile discrepancies."""
    rows = reports_of(session, command.trn)
    holder = claim_holder(_domain(rows))
    _check(command, _domain(rows))
    row = row_from(  # the report as received: trn, kind, reporter, actor, its values
        InductionReport,
        command,
        id=command.report_id,
        seq=_bump(session, induction, command.at),
        received_at=command.at,
    )
    session.add(row)
    if command.kind == ReportKind.AB_CLAIM and holder is None:
        _open_claim(session, command)
    elif command.kind == ReportKind.AB_RELEASE or command.outcome == InductionOutcome.RELEASED:
        _end_claim(session, command)
    elif command.outcome in CLOSING_OUTCOMES:
        _close(session, induction, command)
    session.flush()
    key = _key(command.trn, f"report:{command.report_id}")
    _record(session, command, _ACTION_OF[command.kind], key, _detail(row))
    _reconcile(session, command, [*_domain(rows), row.as_report()])


def _check(command: RecordInductionReportInput, reports: list[Report]) -> None:
    """The rule of a claim, release or outcome, judged under the lock (reports stored so far)."""
    held = holding(reports)
    if command.kind == ReportKind.AB_CLAIM:
        check_claim(held.holder, command.reporter, command.trn, held.closed_by)
    elif command.kind == ReportKind.AB_RELEASE:
        check_release(held.holder, command.reporter, command.trn, held.closed_by)
    elif command.kind == ReportKind.OUTCOME:
        assert command.completed_on is not None  # an outcome's input always carries it
        day = command.completed_on
        check_outcome(held, OutcomeClaim(command.trn, command.reporter, day, command.at.date()))


def _end_claim(session: Session, command: RecordInductionReportInput) -> None:
    """The open claim ends (a release, or a RELEASED outcome): another AB may claim."""
    session.execute(
        update(InductionClaim)
        .where(col(InductionClaim.trn) == command.trn, col(InductionClaim.released_at).is_(None))
        .values(released_at=command.at)
    )


def _close(session: Session, induction: Induction, command: RecordInductionReportInput) -> None:
    """PASSED or FAILED: the induction is closed for good; no reminder is owed any more."""
    induction.status, induction.outcome = InductionStatus.CLOSED, command.outcome
    session.add(induction)
    _close_reminders(session, command)


def _open_claim(session: Session, command: RecordInductionReportInput) -> None:
    """The claim row (its open-claim index backs the rule) and the end of any reminder."""
    session.add(
        InductionClaim(
            id=command.report_id,
            trn=command.trn,
            appropriate_body_id=command.reporter,
            claimed_at=command.at,
        )
    )
    _close_reminders(session, command)


def _close_reminders(session: Session, command: RecordInductionReportInput) -> None:
    """The school's reminder to-dos end: a claim came, or the induction closed."""
    reminders = session.exec(
        select(Action.key).where(
            Action.subject_kind == SUBJECT,
            Action.subject_id == command.trn,
            Action.kind == REMINDER,
            col(Action.status) != ActionStatus.DONE,
        )
    ).all()
    for key in reminders:
        set_action_status(session, key, ActionStatus.DONE, command.at)


def _reconcile(
    session: Session, command: RecordInductionReportInput, reports: list[Report]
) -> None:
    """Resolve discrepancies that no longer hold, then open the new ones."""
    open_rows = {
        discrepancy_field(row.field): row for row in open_discrepancies_of(session, command.trn)
    }
    found = differences(reports)
    plan = reconcile({name: view_of(Difference, row) for name, row in open_rows.items()}, found)
    holder = claim_holder(reports)
    for name in plan.to_resolve:
        resolution = "superseded" if name in found else "agreed" if holder else "claim_released"
        _resolve(session, command, open_rows[name], resolution)
    session.flush()  # the open-discrepancy index holds one per field: resolve before opening
    for difference in plan.to_open:
        _open_discrepancy(session, command, difference)


def _resolve(
    session: Session,
    command: RecordInductionReportInput,
    row: InductionDiscrepancy,
    resolution: str,
) -> None:
    row.resolved_at, row.resolution = command.at, resolution
    session.add(row)
    set_action_status(session, row.key, ActionStatus.DONE, command.at)
    detail: dict[str, object] = {
        "field": row.field,
        "resolution": resolution,
        "discrepancy": row.key,
    }
    _record(
        session, command, "discrepancy_resolved", _key(command.trn, f"resolved:{row.key}"), detail
    )


def _open_discrepancy(
    session: Session, command: RecordInductionReportInput, difference: Difference
) -> None:
    key = _key(command.trn, f"discrepancy:{difference.field}:{command.report_id}")
    # the field, both values and both reporters from the difference
    row = row_from(
        InductionDiscrepancy, difference, key=key, trn=command.trn, detected_at=command.at
    )
    session.add(row)
    detail = {"discrepancy": key, **difference.model_dump(mode="json")}
    title = _discrepancy_title(command.trn, difference)
    _ask_school(session, command, key, DISCREPANCY, difference.school_reporter, title, detail)
    _record(session, command, "discrepancy", _key(command.trn, f"opened:{key}"), detail)


def _discrepancy_title(trn: str, difference: Difference) -> str:
    """What the school's to-do says about the difference."""
    if isinstance(difference.field, ClosureField):
        return (
            f"The induction of teacher {trn} is closed: appropriate body "
            f"{difference.ab_reporter} recorded {difference.ab_value!s}; your report was "
            "recorded against the closed induction and did not reopen it"
        )
    return (
        f"Appropriate body {difference.ab_reporter} reports {_LABEL[difference.field]} "
        f"{difference.ab_value!s} for teacher {trn}; you reported {difference.school_value!s}"
    )


def _ask_school(
    session: Session,
    command: InductionCommand,
    key: str,
    kind: str,
    school: str,
    title: str,
    detail: dict[str, object],
) -> None:
    """A to-do for the users of `school` about the command's teacher (once per `key`)."""
    open_action(
        session,
        key=key,
        kind=kind,
        subject_kind=SUBJECT,
        subject_id=command.trn,
        role="school",
        org=school,
        title=title,
        at=command.at,
        detail=detail,
    )


def _remind(
    session: Session,
    induction: Induction,
    rows: list[InductionReport],
    command: RecordAbClaimReminderInput,
    key: str,
) -> None:
    school = next(row for row in reversed(rows) if row.kind == ReportKind.SCHOOL_REPORT)
    detail = {
        "trn": command.trn,
        "school_id": school.reporter,
        "unclaimed_since": command.unclaimed_since.isoformat(),
        "reminder_days": command.reminder_days,
        "due_at": reminder_due_at(command.unclaimed_since, command.reminder_days).isoformat(),
    }
    title = (
        f"No appropriate body has claimed teacher {command.trn} in "
        f"{command.reminder_days} days: ask appropriate body {school.appropriate_body_id}"
    )
    _ask_school(session, command, key, REMINDER, school.reporter, title, detail)
    _record(session, command, "ab_claim_reminder", key, detail)  # its event type is REMINDER
    _bump(session, induction, command.at)


def _record(
    session: Session, command: InductionCommand, action: str, key: str, detail: dict[str, object]
) -> None:
    """The audit row and the `induction.{action}` event of one change, in the caller's
    transaction (a reminder is the system's doing)."""
    actor = command.actor if isinstance(command, RecordInductionReportInput) else "system"
    change = Change(SUBJECT, command.trn, action, actor, command.at, key)
    change.record(session, detail, data={"trn": command.trn})


def _detail(row: InductionReport) -> dict[str, object]:
    return {
        "report_id": row.id,
        "kind": row.kind,
        "reporter": row.reporter,
        "appropriate_body_id": row.appropriate_body_id,
        "programme_type": row.programme_type,
        "start_date": row.start_date.isoformat() if row.start_date else None,
        "started_on": row.started_on.isoformat() if row.started_on else None,
        **(
            {"outcome": row.outcome, "completed_on": str(row.completed_on)}
            if row.kind == ReportKind.OUTCOME
            else {}
        ),
    }


def snapshot_of(session: Session, induction: Induction) -> InductionSnapshot:
    """The registration as stored now (everything derived from the reports)."""
    reports = _domain(reports_of(session, induction.trn))
    now = standing(reports)
    return InductionSnapshot(
        trn=induction.trn,
        status=now.status,
        outcome=now.outcome,
        start_date=holding(reports).start,
        revision=induction.revision,
        effective=effective(reports),
        claimed_by=claim_holder(reports),
        unclaimed_since=unclaimed_since(reports),
        open_discrepancies=sorted(
            discrepancy_field(row.field) for row in open_discrepancies_of(session, induction.trn)
        ),
        reports=len(reports),
    )
