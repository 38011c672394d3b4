"""Payloads of InductionRegistrationWorkflow and its activities."""

from datetime import date, datetime

from pydantic import Field

from domain.induction import (
    DiscrepancyField,
    Effective,
    InductionOutcome,
    InductionStatus,
    ProgrammeType,
    ReportKind,
)
from workflows.payloads.common import Payload, signature
from workflows.payloads.resumption import RecordResumptionInput, Resumption

DEFAULT_AB_CLAIM_REMINDER_DAYS = 30


class InductionSnapshot(Payload):
    """The registration as PostgreSQL holds it after an activity (newest `revision` wins)."""

    trn: str
    revision: int = 0
    effective: Effective = Effective()
    claimed_by: str | None = None
    unclaimed_since: datetime | None = None
    open_discrepancies: list[DiscrepancyField] = Field(default_factory=list)
    reports: int = 0
    status: InductionStatus = InductionStatus.OPEN
    outcome: InductionOutcome | None = None  # the closing one, or RELEASED until a new claim
    start_date: date | None = None  # when the induction started, as far as it is known

    @property
    def closed_by(self) -> InductionOutcome | None:
        """The outcome that closed the induction (None while it is open)."""
        return self.outcome if self.status == InductionStatus.CLOSED else None


class InductionCarry(Payload):
    """What a run hands to the next one when it continues as new."""

    snapshot: InductionSnapshot
    reminded_for: datetime | None = None


class StartInductionInput(Payload):
    """What the workflow is started with (by the first report, claim or migration)."""

    trn: str
    ab_claim_reminder_days: int = Field(default=DEFAULT_AB_CLAIM_REMINDER_DAYS, ge=1)
    carried: InductionCarry | None = None
    resumed: Resumption | None = None  # restarted by reconcile: reload from the database


class SchoolReportInput(Payload):
    """A school reports the teacher's AB, programme type and start date (provisional)."""

    actor: str
    school_id: str
    appropriate_body_id: str
    programme_type: ProgrammeType
    start_date: date


class AbClaimInput(Payload):
    """An AB claims the teacher (or amends its own open claim)."""

    actor: str
    appropriate_body_id: str
    programme_type: ProgrammeType
    started_on: date


class AbReleaseInput(Payload):
    """The AB holding the open claim ends it."""

    actor: str
    appropriate_body_id: str


class InductionOutcomeInput(Payload):
    """The AB holding the open induction records its outcome."""

    actor: str
    appropriate_body_id: str
    outcome: InductionOutcome
    completed_on: date


class MigratedReportInput(Payload):
    """Data migrated from the older service (below both school and AB)."""

    actor: str
    appropriate_body_id: str | None = None
    programme_type: ProgrammeType | None = None
    start_date: date | None = None


class RecordInductionReportInput(Payload):
    """Activity input: store report `report_id` as received and derive everything from it."""

    trn: str
    report_id: str
    kind: ReportKind
    reporter: str
    actor: str
    appropriate_body_id: str | None = None
    programme_type: ProgrammeType | None = None
    start_date: date | None = None
    started_on: date | None = None
    outcome: InductionOutcome | None = None
    completed_on: date | None = None
    at: datetime


class RecordAbClaimReminderInput(Payload):
    """Activity input: no AB has claimed since `unclaimed_since`; remind the school."""

    trn: str
    unclaimed_since: datetime
    reminder_days: int
    at: datetime


class InductionRecorded(Payload):
    """Answer to every update: the stored report's id and the registration after it."""

    report_id: str
    snapshot: InductionSnapshot


# Activity signatures (see `signature`): saved histories hold these names.
record_induction_report = signature(
    "record_induction_report", RecordInductionReportInput, InductionRecorded
)
record_ab_claim_reminder = signature(
    "record_ab_claim_reminder", RecordAbClaimReminderInput, InductionSnapshot
)
resume_induction = signature("resume_induction", RecordResumptionInput, InductionCarry)
