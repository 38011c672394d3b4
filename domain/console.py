"""Who must act next on a case, and its next deadline: what the Temporal UI shows an operator.

Pure rules, one per case kind. The workflows publish the answer as the `WaitingOn` and
`DueAt` search attributes (docs/operations.md, "Saved views").
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.application import ApplicationStatus
from domain.outcome import BatchStatus, OutcomeStatus
from domain.review import AssignmentStatus
from domain.sla import SlaStatus


class WaitingOn(StrEnum):
    """Who must act next for the case to move."""

    APPLICANT = "applicant"  # the applicant (an LOQ), or the assessor who must amend an outcome
    REVIEWER = "reviewer"  # a reviewer holding an assignment, or QA
    ASSIGNER = "assigner"  # nobody holds the current level's assignments yet
    RELEASER = "releaser"  # an outcome waits to be released or scheduled
    APPROPRIATE_BODY = "appropriate_body"  # no AB has claimed the teacher
    TIMER = "timer"  # nothing but time: a scheduled release, a running SLA clock
    NOBODY = "nobody"  # finished, paused, or working on its own


@dataclass(frozen=True)
class NextStep:
    """Who must act next, and the next deadline (`due`, what that deadline is)."""

    waiting_on: WaitingOn
    due_at: datetime | None = None
    due: str | None = None


NOBODY = NextStep(WaitingOn.NOBODY)


def application_next(
    status: ApplicationStatus,
    assignments: Sequence[AssignmentStatus],
    loq_deadline_at: datetime | None,
    review_due: tuple[datetime, bool] | None = None,
) -> NextStep:
    """An application: the applicant answers an LOQ by its deadline; a submitted case waits
    on its reviewers once one holds an assignment of the current level, else on an assigner.
    `review_due`: the earliest due date of the reviewers' running clocks, and whether it
    passed (an overdue review: `DueAt` in the past, findable as overdue)."""
    if status == ApplicationStatus.DRAFT:
        return NextStep(WaitingOn.APPLICANT)
    if status == ApplicationStatus.CHANGES_REQUIRED:
        return NextStep(WaitingOn.APPLICANT, loq_deadline_at, "LOQ deadline")
    if status != ApplicationStatus.SUBMITTED:
        return NOBODY
    if AssignmentStatus.ASSIGNED in assignments:
        if review_due is not None:
            due_at, overdue = review_due
            return NextStep(
                WaitingOn.REVIEWER, due_at, "review overdue" if overdue else "review due"
            )
        return NextStep(WaitingOn.REVIEWER)
    return NextStep(WaitingOn.ASSIGNER)


def outcome_next(status: OutcomeStatus, scheduled_release_at: datetime | None) -> NextStep:
    """An outcome: QA, then the assessor's amendment, then a release (scheduled or not)."""
    if status == OutcomeStatus.IN_QA:
        return NextStep(WaitingOn.REVIEWER)
    if status == OutcomeStatus.AMENDMENT_REQUIRED:
        return NextStep(WaitingOn.APPLICANT)
    if status != OutcomeStatus.PENDING_RELEASE:
        return NOBODY
    if scheduled_release_at is not None:
        return NextStep(WaitingOn.TIMER, scheduled_release_at, "scheduled release")
    return NextStep(WaitingOn.RELEASER)


def induction_next(
    claimed_by: str | None,
    unclaimed_since: datetime | None,
    reminder_due_at: datetime | None,
    *,
    reminded: bool = False,
) -> NextStep:
    """A registration: once a school has reported, an AB must claim the teacher; the school
    is reminded at `reminder_due_at`, which stays the deadline (passed) once it has been."""
    if claimed_by is not None or unclaimed_since is None:
        return NOBODY
    due = "AB claim reminder sent" if reminded else "AB claim reminder"
    return NextStep(WaitingOn.APPROPRIATE_BODY, reminder_due_at, due)


def sla_next(status: SlaStatus, breach_at: datetime | None) -> NextStep:
    """An SLA: a running clock waits on time until its breach (None once breached)."""
    if status not in (SlaStatus.RUNNING, SlaStatus.BREACHED):
        return NOBODY
    if status == SlaStatus.BREACHED or breach_at is None:
        return NextStep(WaitingOn.TIMER)
    return NextStep(WaitingOn.TIMER, breach_at, "SLA breach")


def batch_next(status: str, release_at: datetime | None) -> NextStep:
    """A bulk release: a scheduled one waits on time until its instant."""
    if status in (BatchStatus.QUEUED, BatchStatus.SCHEDULED) and release_at is not None:
        return NextStep(WaitingOn.TIMER, release_at, "scheduled release")
    return NOBODY
