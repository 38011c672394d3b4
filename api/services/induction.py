"""Inductions: how the API starts the workflow, checks the caller's org, and reads a teacher."""

import uuid
from datetime import UTC, datetime
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from activities.induction import record_report
from core import temporal as keys
from domain.access import Principal, acts_for, induction_view
from domain.errors import Forbidden, NotFound, field_error
from domain.induction import (
    InductionStatus,
    ReportKind,
    claim_holder,
    confirmed_only,
    effective,
    standing,
)
from models.induction import (
    Induction,
    InductionPublic,
    ReportReceipt,
    discrepancies_of,
    discrepancy_public,
    report_public,
    reports_of,
)
from models.views import view_of
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.common import Payload
from workflows.payloads.induction import (
    DEFAULT_AB_CLAIM_REMINDER_DAYS,
    AbClaimInput,
    AbReleaseInput,
    InductionOutcomeInput,
    InductionRecorded,
    InductionSnapshot,
    MigratedReportInput,
    RecordInductionReportInput,
    SchoolReportInput,
    StartInductionInput,
)


class InductionSettings(BaseSettings):
    """Knobs of the induction module (environment variables)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    induction_ab_claim_reminder_days: int = Field(
        default=DEFAULT_AB_CLAIM_REMINDER_DAYS,
        ge=1,
        description="days after a school's report before the school is reminded to chase its AB",
    )


@lru_cache
def get_induction_settings() -> InductionSettings:
    """The process-wide induction settings (read once)."""
    return InductionSettings()


def workflow_id(trn: str) -> str:
    """The business key of a teacher's registration workflow."""
    return f"induction-{trn}"


def start_operation(
    trn: str, *, task_queue: str, reminder_days: int | None = None
) -> WithStartWorkflowOperation[InductionRegistrationWorkflow, InductionSnapshot]:
    """Start (or join) the teacher's registration; a terminated one may be started again."""
    days = reminder_days or get_induction_settings().induction_ab_claim_reminder_days
    return WithStartWorkflowOperation(
        InductionRegistrationWorkflow.run,
        StartInductionInput(trn=trn, ab_claim_reminder_days=days),
        id=workflow_id(trn),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=search_attributes(),
        static_summary=summary(trn, days),
    )


def search_attributes() -> TypedSearchAttributes:
    """What an operator finds the workflow by before its first state is published."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(keys.CASE_KIND, "induction"),
            SearchAttributePair(keys.CASE_STATUS, ["AWAITING_CLAIM"]),
        ]
    )


def summary(trn: str, reminder_days: int) -> str:
    """The workflow's static summary in the Temporal UI."""
    return f"Induction registration · teacher {trn} · AB reminder after {reminder_days} days"


def ensure_acts_for(caller: Principal, org: str, field: str) -> None:
    """A school or AB reports only for its own organisation (the token's `org`)."""
    if not acts_for(caller, org):
        mine = f"your token's organisation is {caller.org}" if caller.org else "no organisation"
        raise Forbidden(
            f"you may report only for your own organisation; {field} is {org} but {mine}",
            errors=[field_error(field, "must be your token's organisation")],
        )


def reported_as(report: Payload) -> tuple[ReportKind, str]:
    """What an update's input is stored as, and who reported it (as the workflow stores it)."""
    match report:
        case SchoolReportInput():
            return ReportKind.SCHOOL_REPORT, report.school_id
        case MigratedReportInput():
            return ReportKind.MIGRATED, "migration"
        case AbClaimInput():
            return ReportKind.AB_CLAIM, report.appropriate_body_id
        case AbReleaseInput():
            return ReportKind.AB_RELEASE, report.appropriate_body_id
        case InductionOutcomeInput():
            return ReportKind.OUTCOME, report.appropriate_body_id
    raise TypeError(f"not an induction report: {type(report).__name__}")


def record_if_closed(
    engine: Engine, trn: str, kind: ReportKind, reporter: str, report: Payload
) -> InductionRecorded | None:
    """A closed induction has no workflow left: its report is judged and stored here, in one
    transaction, by the activity's own code (a claim, release or outcome is refused naming
    the outcome; a school report is recorded and raises a discrepancy). None while open."""
    with Session(engine) as session, session.begin():
        found = session.get(Induction, trn)
        if found is None or found.status != InductionStatus.CLOSED:
            return None  # a closed induction never reopens, so this holds under the lock too
        command = RecordInductionReportInput.model_validate(
            {
                **report.model_dump(exclude={"school_id"}),
                "trn": trn,
                "report_id": str(uuid.uuid4()),
                "kind": kind,
                "reporter": reporter,
                "at": datetime.now(UTC),
            }
        )
        return record_report(session, command)


def receipt(recorded: InductionRecorded) -> ReportReceipt:
    """The answer to a report, claim or release."""
    snapshot = recorded.snapshot
    return view_of(ReportReceipt, snapshot, report_id=recorded.report_id)


def get(session: Session, caller: Principal, trn: str) -> InductionPublic:
    """A teacher's induction as the caller may see it (404 when it is not theirs)."""
    rows = reports_of(session, trn)
    reports = [row.as_report() for row in rows]
    holder = claim_holder(reports)
    view = induction_view(
        caller,
        schools={r.reporter for r in rows if r.kind == ReportKind.SCHOOL_REPORT},
        claimants={r.reporter for r in rows if r.kind == ReportKind.AB_CLAIM},
        claimed=holder is not None,
    )
    if not rows or view is None:
        raise NotFound(f"no induction for teacher {trn} that you may see")
    values, now = effective(reports), standing(reports)
    if view == "confirmed":
        return view_of(
            InductionPublic, now, trn=trn, effective=confirmed_only(values), claimed_by=holder
        )
    return view_of(
        InductionPublic,
        now,
        trn=trn,
        effective=values,
        claimed_by=holder,
        reports=[report_public(row) for row in reversed(rows)],
        discrepancies=[discrepancy_public(row) for row in reversed(discrepancies_of(session, trn))],
    )
