"""Payloads of the review cycle: assignments, reviews, and the case snapshot."""

from datetime import datetime

from pydantic import Field
from temporalio import activity

from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.review import AssignmentStatus, ReviewDecision, ReviewStatus
from workflows.payloads.common import Payload


class StageShape(Payload):
    """What the workflow needs to know of a stage."""

    code: str
    levels: int
    final_decision: bool = False
    pre_assessment: bool = False
    self_assignable: bool = True


class CaseShape(Payload):
    """The template's structure, fixed for the application's life."""

    sections: list[str]
    preliminary_sections: list[str]
    stages: list[StageShape]
    loq_deadline_days: int
    loq_followup_deadline_days: int
    loq_reminder_days_before: list[int]

    def stage(self, code: str) -> StageShape:
        """The stage `code` (it exists: codes come from this shape)."""
        return next(stage for stage in self.stages if stage.code == code)

    def review_sections(self, stage_code: str) -> list[str]:
        """Sections reviewed in a stage: pre-assessment reviews only the preliminary ones."""
        return self.preliminary_sections if self.stage(stage_code).pre_assessment else self.sections


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


# Activity signatures for workflows to call (the worker runs the methods of the same names in
# activities/; tests/workflows/test_activity_signatures.py keeps the two in step). Saved
# histories hold these names: never rename one.


@activity.defn(name="record_assignment")
async def record_assignment(command: RecordAssignmentInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="record_unassignment")
async def record_unassignment(command: RecordUnassignmentInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="sync_assignments")
async def sync_assignments(command: SyncAssignmentsInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="record_review_start")
async def record_review_start(command: RecordReviewStartInput) -> ReviewStarted:
    raise NotImplementedError


@activity.defn(name="record_review_submission")
async def record_review_submission(command: RecordReviewSubmissionInput) -> ReviewSubmitted:
    raise NotImplementedError
