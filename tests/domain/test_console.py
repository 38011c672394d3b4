"""Who must act next on a case, and its next deadline (domain/console.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.application import ApplicationStatus
from domain.console import (
    NextStep,
    WaitingOn,
    application_next,
    batch_next,
    induction_next,
    outcome_next,
    sla_next,
)
from domain.outcome import BatchStatus, OutcomeStatus
from domain.review import AssignmentStatus
from domain.sla import SlaStatus

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LATER = AT + timedelta(days=7)

A = ApplicationStatus
TAKEN, OPEN = AssignmentStatus.ASSIGNED, AssignmentStatus.AVAILABLE


@pytest.mark.parametrize(
    ("status", "assignments", "deadline", "expected"),
    [
        (A.DRAFT, [], None, NextStep(WaitingOn.APPLICANT)),
        (A.CHANGES_REQUIRED, [TAKEN], LATER, NextStep(WaitingOn.APPLICANT, LATER, "LOQ deadline")),
        (A.SUBMITTED, [], None, NextStep(WaitingOn.ASSIGNER)),
        (A.SUBMITTED, [OPEN, OPEN], None, NextStep(WaitingOn.ASSIGNER)),
        (A.SUBMITTED, [OPEN, TAKEN], None, NextStep(WaitingOn.REVIEWER)),
        (A.SUBMITTED, [TAKEN], None, NextStep(WaitingOn.REVIEWER)),
        (A.COMPLETED, [TAKEN], LATER, NextStep(WaitingOn.NOBODY)),
        (A.WITHDRAWN, [], None, NextStep(WaitingOn.NOBODY)),
    ],
)
def test_an_application_waits_on_the_applicant_an_assigner_or_a_reviewer(
    status: ApplicationStatus,
    assignments: list[AssignmentStatus],
    deadline: datetime | None,
    expected: NextStep,
) -> None:
    assert application_next(status, assignments, deadline) == expected


OS = OutcomeStatus


@pytest.mark.parametrize(
    ("status", "scheduled", "expected"),
    [
        (OS.SUBMITTED, None, NextStep(WaitingOn.NOBODY)),
        (OS.IN_QA, None, NextStep(WaitingOn.REVIEWER)),
        (OS.AMENDMENT_REQUIRED, None, NextStep(WaitingOn.APPLICANT)),
        (OS.PENDING_RELEASE, None, NextStep(WaitingOn.RELEASER)),
        (OS.PENDING_RELEASE, LATER, NextStep(WaitingOn.TIMER, LATER, "scheduled release")),
        (OS.RELEASED, LATER, NextStep(WaitingOn.NOBODY)),
    ],
)
def test_an_outcome_waits_on_qa_the_assessor_a_releaser_or_its_schedule(
    status: OutcomeStatus, scheduled: datetime | None, expected: NextStep
) -> None:
    assert outcome_next(status, scheduled) == expected


@pytest.mark.parametrize(
    ("claimed_by", "unclaimed_since", "reminded", "expected"),
    [
        (None, None, False, NextStep(WaitingOn.NOBODY)),  # nothing reported yet
        (None, AT, False, NextStep(WaitingOn.APPROPRIATE_BODY, LATER, "AB claim reminder")),
        (None, AT, True, NextStep(WaitingOn.APPROPRIATE_BODY, LATER, "AB claim reminder sent")),
        ("ab-1", None, False, NextStep(WaitingOn.NOBODY)),
        ("ab-1", AT, True, NextStep(WaitingOn.NOBODY)),
    ],
)
def test_a_registration_waits_on_an_appropriate_body_until_one_claims(
    claimed_by: str | None, unclaimed_since: datetime | None, reminded: bool, expected: NextStep
) -> None:
    due = LATER if unclaimed_since else None
    assert induction_next(claimed_by, unclaimed_since, due, reminded=reminded) == expected


@pytest.mark.parametrize(
    ("status", "breach_at", "expected"),
    [
        (SlaStatus.RUNNING, LATER, NextStep(WaitingOn.TIMER, LATER, "SLA breach")),
        (SlaStatus.BREACHED, None, NextStep(WaitingOn.TIMER)),
        (SlaStatus.PAUSED, None, NextStep(WaitingOn.NOBODY)),
        (SlaStatus.MET, None, NextStep(WaitingOn.NOBODY)),
        (SlaStatus.CANCELLED, None, NextStep(WaitingOn.NOBODY)),
    ],
)
def test_a_running_sla_waits_on_time_until_its_breach(
    status: SlaStatus, breach_at: datetime | None, expected: NextStep
) -> None:
    assert sla_next(status, breach_at) == expected


@pytest.mark.parametrize(
    ("status", "release_at", "expected"),
    [
        (BatchStatus.SCHEDULED, LATER, NextStep(WaitingOn.TIMER, LATER, "scheduled release")),
        (BatchStatus.QUEUED, LATER, NextStep(WaitingOn.TIMER, LATER, "scheduled release")),
        (BatchStatus.QUEUED, None, NextStep(WaitingOn.NOBODY)),  # a release now
        (BatchStatus.RUNNING, LATER, NextStep(WaitingOn.NOBODY)),
        (BatchStatus.COMPLETED, LATER, NextStep(WaitingOn.NOBODY)),
    ],
)
def test_a_scheduled_batch_waits_on_its_instant(
    status: str, release_at: datetime | None, expected: NextStep
) -> None:
    assert batch_next(status, release_at) == expected


def test_every_waiting_on_value_is_one_the_issue_names() -> None:
    assert {w.value for w in WaitingOn} == {
        "applicant",
        "reviewer",
        "assigner",
        "releaser",
        "appropriate_body",
        "timer",
        "nobody",
    }


@pytest.mark.parametrize(
    ("status", "assignments", "review_due", "expected"),
    [
        (A.SUBMITTED, [TAKEN], (LATER, False), NextStep(WaitingOn.REVIEWER, LATER, "review due")),
        (A.SUBMITTED, [TAKEN], (AT, True), NextStep(WaitingOn.REVIEWER, AT, "review overdue")),
        (A.SUBMITTED, [TAKEN], None, NextStep(WaitingOn.REVIEWER)),
        (
            A.CHANGES_REQUIRED,
            [TAKEN],
            (AT, True),
            NextStep(WaitingOn.APPLICANT, LATER, "LOQ deadline"),
        ),
        (A.COMPLETED, [TAKEN], (AT, True), NextStep(WaitingOn.NOBODY)),
    ],
)
def test_a_running_reviewer_clock_is_the_due_date_while_submitted(
    status: ApplicationStatus,
    assignments: list[AssignmentStatus],
    review_due: tuple[datetime, bool] | None,
    expected: NextStep,
) -> None:
    """Decision 0095: `DueAt` is the reviewer's due date, in the past once overdue."""
    assert application_next(status, assignments, LATER, review_due) == expected
