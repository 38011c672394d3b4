"""Payloads of OutcomeReleaseWorkflow, OutcomeReleaseBatchWorkflow and their activities."""

from datetime import datetime

from domain.outcome import Grade, OutcomeKind, OutcomeStatus, ReleaseMethod, ReleaseMode
from workflows.payloads.common import Payload, signature
from workflows.payloads.resumption import RecordResumptionInput, Resumption


class OutcomeSnapshot(Payload):
    """The outcome as its workflow sees it (`revision` orders snapshots)."""

    kind: OutcomeKind
    outcome_id: str
    candidate_id: str
    status: OutcomeStatus
    grade: Grade
    revision: int
    amendments: int = 0
    scheduled_release_at: datetime | None = None
    # True when the outcome's own workflow holds the schedule (not a batch).
    own_schedule: bool = False
    released_at: datetime | None = None
    release_method: ReleaseMethod | None = None


class StartOutcomeReleaseInput(Payload):
    """What the workflow is started with (by the submission, or by reconcile: `resumed`)."""

    kind: OutcomeKind
    outcome_id: str
    candidate_id: str
    provider_id: str
    grade: Grade
    resumed: Resumption | None = None


class ResumedOutcome(Payload):
    """Activity result: the outcome as stored, and the element it grades (if a result)."""

    snapshot: OutcomeSnapshot
    element_id: str | None


class SubmitOutcomeInput(Payload):
    """An assessor submits a result or saves a certification."""

    actor: str
    candidate_id: str
    element_id: str | None
    grade: Grade
    sampled_for_qa: bool


class QaSignoffInput(Payload):
    """QA passes or fails the outcome (optionally releasing it at the same time)."""

    actor: str
    passed: bool
    release_with_qa: bool = False


class AmendOutcomeInput(Payload):
    """The assessor corrects the grade after a failed QA."""

    actor: str
    grade: Grade


class ReleaseNowInput(Payload):
    """A releaser releases the pending outcome now (also replaces a schedule)."""

    actor: str


class ScheduleReleaseInput(Payload):
    """A releaser schedules (or moves) the release to `release_at`."""

    actor: str
    release_at: datetime


class OutcomeReleasedNotice(Payload):
    """Signal: a batch released the outcome (the database row is the truth)."""

    revision: int
    released_at: datetime
    release_method: ReleaseMethod


class RecordOutcomeSubmissionInput(Payload):
    """Activity input: insert the outcome and take its first step, at `at`."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    candidate_id: str
    element_id: str | None
    grade: Grade
    sampled_for_qa: bool
    at: datetime


class RecordQaSignoffInput(Payload):
    """Activity input: QA sign-off number `round` (= amendments so far)."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    passed: bool
    release_with_qa: bool
    round: int
    at: datetime


class RecordAmendmentInput(Payload):
    """Activity input: amendment number `amendment`."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    grade: Grade
    amendment: int
    at: datetime


class RecordReleaseInput(Payload):
    """Activity input: release now (MANUAL) or when the own timer fires (SCHEDULED)."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    method: ReleaseMethod
    scheduled_at: datetime | None = None
    at: datetime


class RecordScheduleInput(Payload):
    """Activity input: the outcome's own schedule is `release_at`."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    release_at: datetime
    at: datetime


class CancelOutcomeScheduleInput(Payload):
    """Activity input: an operator's cancel drops the outcome's own schedule (or is refused)."""

    kind: OutcomeKind
    outcome_id: str
    actor: str
    note: str | None
    at: datetime


class StartReleaseBatchInput(Payload):
    """A bulk release: its items are in `release_batch_items` (`resumed`: by reconcile)."""

    batch_id: str
    mode: ReleaseMode
    release_at: datetime | None
    actor: str
    chunk_size: int = 1000
    resumed: Resumption | None = None


class ScheduleBatchInput(Payload):
    """Activity input: point the batch's pending outcomes at its schedule."""

    batch_id: str
    release_at: datetime
    actor: str
    at: datetime


class ReleaseBatchChunkInput(Payload):
    """Activity input: release the next `limit` items of the batch."""

    batch_id: str
    method: ReleaseMethod
    release_at: datetime | None
    actor: str
    limit: int
    at: datetime


class ListReleasedInput(Payload):
    """Activity input: released items after `after_position`."""

    batch_id: str
    after_position: int
    limit: int


class OutcomeRefPayload(Payload):
    """One outcome by kind and id (with what its workflow should learn)."""

    kind: OutcomeKind
    outcome_id: str
    revision: int
    released_at: datetime
    release_method: ReleaseMethod


class ReleasedPage(Payload):
    """Activity result: released outcomes to notify, and where the page ended."""

    outcomes: list[OutcomeRefPayload]
    last_position: int | None


class NotifyReleasedInput(Payload):
    """Activity input: signal each outcome's workflow that it was released."""

    outcomes: list[OutcomeRefPayload]


class CloseBatchInput(Payload):
    """Activity input: the batch is done."""

    batch_id: str
    at: datetime


class CancelBatchInput(Payload):
    """Activity input: an operator's cancel stops the batch with what is left at `at`."""

    batch_id: str
    actor: str
    note: str | None
    at: datetime


class BatchCounts(Payload):
    """Where a batch stands (the rows in `release_batch_items` are the truth)."""

    batch_id: str
    status: str
    total: int = 0
    pending: int = 0
    scheduled: int = 0
    released: int = 0
    skipped: int = 0


# Activity signatures (see `signature`): saved histories hold these names.
record_outcome_submission = signature(
    "record_outcome_submission", RecordOutcomeSubmissionInput, OutcomeSnapshot
)
record_qa_signoff = signature("record_qa_signoff", RecordQaSignoffInput, OutcomeSnapshot)
record_outcome_amendment = signature(
    "record_outcome_amendment", RecordAmendmentInput, OutcomeSnapshot
)
release_outcome = signature("release_outcome", RecordReleaseInput, OutcomeSnapshot)
schedule_outcome_release = signature(
    "schedule_outcome_release", RecordScheduleInput, OutcomeSnapshot
)
cancel_outcome_schedule = signature(
    "cancel_outcome_schedule", CancelOutcomeScheduleInput, OutcomeSnapshot
)
resume_outcome = signature("resume_outcome", RecordResumptionInput, ResumedOutcome)
schedule_release_batch = signature("schedule_release_batch", ScheduleBatchInput, BatchCounts)
release_batch_chunk = signature("release_batch_chunk", ReleaseBatchChunkInput, BatchCounts)
list_batch_released = signature("list_batch_released", ListReleasedInput, ReleasedPage)
notify_outcomes_released = signature("notify_outcomes_released", NotifyReleasedInput, int)
close_release_batch = signature("close_release_batch", CloseBatchInput, BatchCounts)
cancel_release_batch = signature("cancel_release_batch", CancelBatchInput, BatchCounts)
