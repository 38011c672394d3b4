"""Who may claim, start or submit a review, and when: one rule for the validator and the activity.

The workflow's update validators build a `Seat` from their snapshot, the activities from the
rows they hold locked; both call the same guard, so a refusal reads the same either way.
"""

from dataclasses import dataclass

from domain.application import ApplicationStatus
from domain.errors import Conflict, Forbidden
from domain.review import RESTARTABLE, AssignmentStatus, ReviewStatus

OPEN_FOR_REVIEW = frozenset({ApplicationStatus.SUBMITTED})
OPEN_FOR_CLAIMS = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUIRED})


@dataclass(frozen=True)
class Seat:
    """What the guards read: the application's status, one open assignment and its review."""

    application_status: ApplicationStatus
    reviewer_id: str
    assignment_status: AssignmentStatus
    is_self_assignable: bool
    review_status: ReviewStatus | None


def ensure_claims_open(status: ApplicationStatus) -> None:
    """Sections are taken or released only while the application is under review."""
    if status not in OPEN_FOR_CLAIMS:
        raise Conflict(f"the application is {status.value}; nothing can be assigned")


def ensure_can_claim(seat: Seat, actor: str, *, by_assigner: bool) -> None:
    """An assigner assigns any row; a reviewer self-assigns only their own, self-assignable row."""
    ensure_claims_open(seat.application_status)
    if by_assigner:
        return
    if actor != seat.reviewer_id:
        raise Forbidden("only the assignment's own reviewer can self-assign it")
    if not seat.is_self_assignable:
        raise Conflict("this stage is not self-assignable; an assigner assigns it")


def ensure_can_start(seat: Seat, actor: str) -> None:
    """A review starts on an assigned row, by its reviewer, while the application is submitted;
    a DRAFT start is a retry, a PENDING or CHANGES_REQUESTED one a restart."""
    if actor != seat.reviewer_id:
        raise Forbidden("only the assignment's reviewer starts its review")
    if seat.assignment_status != AssignmentStatus.ASSIGNED:
        raise Conflict("take sections of this assignment before starting its review")
    if seat.application_status not in OPEN_FOR_REVIEW:
        raise Conflict(
            f"the application is {seat.application_status.value}; reviews start once submitted"
        )
    status = seat.review_status
    if status is not None and status != ReviewStatus.DRAFT and status not in RESTARTABLE:
        allowed = "a DRAFT, PENDING or CHANGES_REQUESTED review"
        raise Conflict(f"the review is {status.value}; only {allowed} can be (re)started")


def ensure_can_submit(seat: Seat, actor: str) -> None:
    """Only the reviewer submits a DRAFT review, while the application is submitted."""
    if actor != seat.reviewer_id:
        raise Forbidden("only the review's reviewer submits it")
    if seat.review_status != ReviewStatus.DRAFT:
        status = seat.review_status.value if seat.review_status else "not started"
        raise Conflict(f"the review is {status}; only a DRAFT review can be submitted")
    if seat.application_status not in OPEN_FOR_REVIEW:
        raise Conflict(f"the application is {seat.application_status.value}; reviews are closed")


def newly_claimed(wanted: list[str], assigned: list[str]) -> list[str]:
    """The sections a claim adds to what the reviewer holds; a claim adding none is refused."""
    new = [section for section in wanted if section not in assigned]
    if not new:
        raise Conflict("this reviewer already holds these sections")
    return new
