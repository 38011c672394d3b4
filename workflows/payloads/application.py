"""Payloads of ApplicationReviewWorkflow and its activities."""

from datetime import datetime

from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from workflows.payloads.common import Payload


class StartApplicationReviewInput(Payload):
    """What the workflow is started with (by the first submit)."""

    application_id: str
    template_code: str
    template_version: int
    applicant_id: str


class SubmitApplicationInput(Payload):
    """The applicant submits (or resubmits) the application."""

    actor: str
    submission: int


class WithdrawApplicationInput(Payload):
    """The applicant withdraws a submitted application."""

    actor: str
    reason: str | None = None


class RecordSubmissionInput(Payload):
    """Activity input: record submission number `submission` at `at`."""

    application_id: str
    actor: str
    submission: int
    at: datetime


class RecordWithdrawalInput(Payload):
    """Activity input: record the withdrawal at `at`."""

    application_id: str
    actor: str
    reason: str | None
    at: datetime


class ApplicationState(Payload):
    """What the workflow knows of its application (query and update result)."""

    application_id: str
    status: ApplicationStatus
    stage: str | None = None
    submissions: int = 0
    outcome: ApplicationOutcome | None = None
    outcome_reason: str | None = None
    assessment_status: AssessmentStatus | None = None


class SubmissionResult(Payload):
    """Activity result: the application's state after the submission."""

    status: ApplicationStatus
    stage: str
    submissions: int
    assessment_status: AssessmentStatus


class WithdrawalResult(Payload):
    """Activity result: the application's state after the withdrawal."""

    status: ApplicationStatus


# Activity names, shared by the workflow (which calls by name) and the activities.
RECORD_SUBMISSION = "record_submission"
RECORD_WITHDRAWAL = "record_withdrawal"
