"""Payloads of ApplicationReviewWorkflow and its activities."""

from datetime import datetime

from workflows.payloads.common import Payload, signature
from workflows.payloads.resumption import RecordResumptionInput, Resumption
from workflows.payloads.review import (
    CaseShape,
    CaseSnapshot,
    RecordLoqExpiryInput,
    RecordLoqReminderInput,
)


class StartApplicationReviewInput(Payload):
    """What the workflow is started with (by the first submit, or by reconcile: `resumed`)."""

    application_id: str
    template_code: str
    template_version: int
    applicant_id: str
    resumed: Resumption | None = None


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


class RecordOperatorWithdrawalInput(Payload):
    """Activity input: an operator's cancel withdraws the application at `at`."""

    application_id: str
    actor: str
    note: str | None
    at: datetime


class SubmissionResult(Payload):
    """Activity result: the case after the submission, and the template's shape."""

    snapshot: CaseSnapshot
    shape: CaseShape


# Activity signatures (see `signature`): saved histories hold these names.
record_submission = signature("record_submission", RecordSubmissionInput, SubmissionResult)
record_withdrawal = signature("record_withdrawal", RecordWithdrawalInput, CaseSnapshot)
record_operator_withdrawal = signature(
    "record_operator_withdrawal", RecordOperatorWithdrawalInput, CaseSnapshot
)
record_loq_reminder = signature("record_loq_reminder", RecordLoqReminderInput, CaseSnapshot)
record_loq_expiry = signature("record_loq_expiry", RecordLoqExpiryInput, CaseSnapshot)
resume_application = signature("resume_application", RecordResumptionInput, SubmissionResult)
