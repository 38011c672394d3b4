"""Payloads of the review cycle: assignments, reviews, and the case snapshot."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import Field

from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.errors import NotFound
from domain.review import (
    AssignmentStatus,
    ReviewDecision,
    ReviewStatus,
    sections_to_claim,
    takes_all_sections,
)
from domain.review_deadline import ReviewClock, RunningClock, StepKind
from domain.review_guards import Seat
from workflows.payloads.common import Payload, signature


class StageShape(Payload):
    """What the workflow needs to know of a stage."""

    code: str
    levels: int
    final_decision: bool = False
    pre_assessment: bool = False
    self_assignable: bool = True
    # Reviewer deadlines as the template gives them (`_days` or the ISO twin; decision 0095).
    review_due_days: int | None = None
    review_due: timedelta | None = None
    review_reminder_days_before: list[int] | None = None
    review_reminder_before: list[timedelta] | None = None
    auto_unassign_after_days: int | None = None
    auto_unassign_after: timedelta | None = None

    def clock(self) -> ReviewClock:
        """The stage's reviewer clock (untimed when it sets no due date)."""
        reminders = self.review_reminder_before
        if reminders is None:
            reminders = [timedelta(days=d) for d in self.review_reminder_days_before or []]
        return ReviewClock(
            due=_span(self.review_due_days, self.review_due),
            reminders_before=tuple(reminders),
            unassign_after=_span(self.auto_unassign_after_days, self.auto_unassign_after),
        )


def _span(days: int | None, span: timedelta | None) -> timedelta | None:
    return span if span is not None else None if days is None else timedelta(days=days)


class CaseShape(Payload):
    """The template's structure, fixed for the application's life."""

    sections: list[str]
    preliminary_sections: list[str]
    stages: list[StageShape]
    loq_deadline_days: int | None
    loq_followup_deadline_days: int | None
    loq_reminder_days_before: list[int]
    # ISO twins (API.md v1.1): when set they stand instead of the `_days` values.
    loq_deadline: timedelta | None = None
    loq_followup_deadline: timedelta | None = None
    loq_reminder_before: list[timedelta] | None = None

    @property
    def loq_deadline_span(self) -> timedelta:
        """The first LOQ round's deadline."""
        return _span(self.loq_deadline_days, self.loq_deadline) or timedelta(0)

    @property
    def loq_followup_deadline_span(self) -> timedelta:
        """The follow-up rounds' deadline."""
        return _span(self.loq_followup_deadline_days, self.loq_followup_deadline) or timedelta(0)

    @property
    def loq_reminder_spans(self) -> list[timedelta]:
        """How long before an LOQ deadline the applicant is reminded, longest first."""
        if self.loq_reminder_before is not None:
            return sorted(set(self.loq_reminder_before), reverse=True)
        return [timedelta(days=days) for days in self.loq_reminder_days_before]

    def stage(self, code: str) -> StageShape:
        """The stage `code` (it exists: codes come from this shape)."""
        return next(stage for stage in self.stages if stage.code == code)

    def review_sections(self, stage_code: str) -> list[str]:
        """Sections reviewed in a stage: pre-assessment reviews only the preliminary ones."""
        return self.preliminary_sections if self.stage(stage_code).pre_assessment else self.sections

    def sections_to_claim(
        self, row: "ClaimedRow", requested: list[str] | None, held_by_others: Iterable[str]
    ) -> list[str]:
        """The sections a claim on `row` takes (the domain rule, with this template's stages)."""
        return sections_to_claim(
            requested=requested,
            allowed=row.allowed_sections,
            all_sections=self.review_sections(row.stage),
            held_by_others=held_by_others,
            whole=takes_all_sections(self.stage(row.stage), row.level),
        )


class ClaimedRow(Protocol):
    """What a claim reads of an assignment (a stored row or the workflow's view of it)."""

    @property
    def stage(self) -> str: ...

    @property
    def level(self) -> int: ...

    @property
    def allowed_sections(self) -> list[str] | None: ...


class AssignmentView(Payload):
    """An open assignment row and its review, as the workflow validates against."""

    id: str
    reviewer_id: str
    stage: str
    level: int
    status: AssignmentStatus
    allowed_sections: list[str] | None
    assigned_sections: list[str]
    is_self_assignable: bool
    review_id: str | None = None
    review_status: ReviewStatus | None = None
    # The reviewer's clock (decision 0095): when the review is due, and since when overdue.
    due_at: datetime | None = None
    overdue_at: datetime | None = None
    # The rest of the row as the API shows it (decision 0100), so a claim's update answers
    # what its route returns: the row's fields in every snapshot, `available_sections` only
    # in those of the claim activities (None elsewhere, and in snapshots recorded before).
    assigner_id: str | None = None
    is_last_level: bool | None = None
    is_last_stage: bool | None = None
    is_final_decision: bool | None = None
    available_sections: list[str] | None = None


class CaseSnapshot(Payload):
    """The application as PostgreSQL holds it after an activity (newest `revision` wins)."""

    application_id: str
    revision: int
    status: ApplicationStatus
    outcome: ApplicationOutcome | None = None
    outcome_reason: str | None = None
    stage: str | None = None
    level: int = 1
    submissions: int = 0
    assessment_status: AssessmentStatus | None = None
    loq_round: int = 0
    loq_deadline_at: datetime | None = None
    assignments: list[AssignmentView] = Field(default_factory=list)

    def assignment(self, assignment_id: str) -> AssignmentView:
        """The open assignment `assignment_id` (404 when absent or ended)."""
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        raise NotFound(f"assignment {assignment_id} is not open on this application")

    def seat(self, assignment_id: str) -> Seat:
        """What the review guards read of the open assignment `assignment_id` (404 otherwise)."""
        return self._seat(self.assignment(assignment_id))

    def review_seat(self, review_id: str) -> Seat:
        """What the review guards read of the open assignment whose review is `review_id`."""
        for assignment in self.assignments:
            if assignment.review_id == review_id:
                return self._seat(assignment)
        raise NotFound(f"review {review_id} is not open on this application")

    def _seat(self, assignment: AssignmentView) -> Seat:
        return Seat(
            application_status=self.status,
            reviewer_id=assignment.reviewer_id,
            assignment_status=assignment.status,
            is_self_assignable=assignment.is_self_assignable,
            review_status=assignment.review_status,
        )

    def running_clocks(self, shape: "CaseShape") -> list[RunningClock]:
        """The assignments whose reviewer clock runs, with their stage's settings."""
        return [
            RunningClock(a.id, a.due_at, a.overdue_at is not None, shape.stage(a.stage).clock())
            for a in self.assignments
            if a.due_at is not None
        ]

    def held_by_others(self, assignment: AssignmentView) -> set[str]:
        """Sections other open assignments hold at the assignment's stage and level."""
        return {
            section
            for other in self.assignments
            if other.id != assignment.id
            and (other.stage, other.level) == (assignment.stage, assignment.level)
            for section in other.assigned_sections
        }


class AssignInput(Payload):
    """Give sections of an assignment to its reviewer (by an assigner, or self)."""

    assignment_id: str
    actor: str
    sections: list[str] | None = None
    by_assigner: bool = False


class UnassignInput(Payload):
    """Take an assignment back; its review becomes DISCONTINUED."""

    assignment_id: str
    actor: str


class StartReviewInput(Payload):
    """Start (or restart) the review of an assignment."""

    assignment_id: str
    actor: str


class SubmitReviewInput(Payload):
    """Submit a review, with the decision it carries (if any)."""

    review_id: str
    actor: str
    decision: ReviewDecision | None = None
    comment: str | None = None


class RefreshAssignmentsInput(Payload):
    """Review grants changed: bring untaken rows of the current level in line."""

    actor: str


class RecordAssignmentInput(Payload):
    """Activity input: hold `sections` for the assignment."""

    application_id: str
    assignment_id: str
    sections: list[str]
    actor: str
    by_assigner: bool
    at: datetime


class RecordUnassignmentInput(Payload):
    """Activity input: release the assignment's sections."""

    application_id: str
    assignment_id: str
    actor: str
    at: datetime


class RecordReviewStartInput(Payload):
    """Activity input: create (with `review_id`) or restart the review."""

    application_id: str
    assignment_id: str
    review_id: str
    actor: str
    at: datetime


class RecordReviewSubmissionInput(Payload):
    """Activity input: check, trim and submit the review, then apply its effect."""

    application_id: str
    review_id: str
    actor: str
    decision: ReviewDecision | None
    comment: str | None
    at: datetime


class RecordLoqReminderInput(Payload):
    """Activity input: remind the applicant before the LOQ deadline."""

    application_id: str
    loq_round: int
    deadline_at: datetime
    at: datetime


class RecordLoqExpiryInput(Payload):
    """Activity input: the LOQ deadline passed unanswered."""

    application_id: str
    loq_round: int
    at: datetime


class RecordReviewClockInput(Payload):
    """Activity input: a step of an assignment's clock (reminder, overdue, auto-unassign),
    planned on the clock due at `due_at` (nothing happens when it no longer runs)."""

    application_id: str
    assignment_id: str
    due_at: datetime
    kind: StepKind
    before: timedelta | None = None
    at: datetime


class SyncAssignmentsInput(Payload):
    """Activity input: align untaken rows of the current level with the grants."""

    application_id: str
    actor: str
    at: datetime


class ReviewStarted(Payload):
    """Answer to start_review."""

    review_id: str
    status: ReviewStatus
    created: bool
    snapshot: CaseSnapshot


class ReviewSubmitted(Payload):
    """Answer to submit_review."""

    review_id: str
    review_status: ReviewStatus
    decision: ReviewDecision | None
    snapshot: CaseSnapshot


# Activity signatures (see `signature`): saved histories hold these names.
record_assignment = signature("record_assignment", RecordAssignmentInput, CaseSnapshot)
record_unassignment = signature("record_unassignment", RecordUnassignmentInput, CaseSnapshot)
sync_assignments = signature("sync_assignments", SyncAssignmentsInput, CaseSnapshot)
record_review_start = signature("record_review_start", RecordReviewStartInput, ReviewStarted)
record_review_submission = signature(
    "record_review_submission", RecordReviewSubmissionInput, ReviewSubmitted
)
record_review_clock = signature("record_review_clock", RecordReviewClockInput, CaseSnapshot)
