"""Payloads of ApplicationReviewWorkflow and its activities."""

from datetime import datetime

from temporalio import activity

from workflows.payloads.common import Payload
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


# Activity signatures for workflows to call (the worker runs the methods of the same names in
# activities/; tests/workflows/test_activity_signatures.py keeps the two in step). Saved
# histories hold these names: never rename one.


@activity.defn(name="record_submission")
async def record_submission(command: RecordSubmissionInput) -> SubmissionResult:
    raise NotImplementedError


@activity.defn(name="record_withdrawal")
async def record_withdrawal(command: RecordWithdrawalInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="record_operator_withdrawal")
async def record_operator_withdrawal(command: RecordOperatorWithdrawalInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="record_loq_reminder")
async def record_loq_reminder(command: RecordLoqReminderInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="record_loq_expiry")
async def record_loq_expiry(command: RecordLoqExpiryInput) -> CaseSnapshot:
    raise NotImplementedError


@activity.defn(name="resume_application")
async def resume_application(command: RecordResumptionInput) -> SubmissionResult:
    raise NotImplementedError
