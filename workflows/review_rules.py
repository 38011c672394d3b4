"""Validator checks judged from the workflow's own state (no I/O): they call domain rules."""

from domain.application import ApplicationStatus
from domain.errors import Conflict, Forbidden, NotFound
from domain.review import (
    RESTARTABLE,
    AssignmentStatus,
    ReviewStatus,
    sections_to_claim,
    takes_all_sections,
)
from workflows.payloads.review import (
    AssignInput,
    AssignmentView,
    CaseShape,
    CaseSnapshot,
    StartReviewInput,
    SubmitReviewInput,
)


def find(case: CaseSnapshot, assignment_id: str) -> AssignmentView:
    """The open assignment `assignment_id` (404 when absent or ended)."""
    for assignment in case.assignments:
        if assignment.id == assignment_id:
            return assignment
    raise NotFound(f"assignment {assignment_id} is not open on this application")


def check_claim(
    case: CaseSnapshot, shape: CaseShape, command: AssignInput, reserved: dict[str, set[str]]
) -> list[str]:
    """The sections this claim takes, or the refusal (held, not allowed, nothing left)."""
    if case.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUIRED):
        raise Conflict(f"the application is {case.status.value}; nothing can be assigned")
    assignment = find(case, command.assignment_id)
    if not command.by_assigner:
        if command.actor != assignment.reviewer_id:
            raise Forbidden("only the assignment's own reviewer can self-assign it")
        if not assignment.is_self_assignable:
            raise Conflict("this stage is not self-assignable; an assigner assigns it")
    held = {
        section
        for other in case.assignments
        if other.id != assignment.id
        and (other.stage, other.level) == (assignment.stage, assignment.level)
        for section in other.assigned_sections
    } | reserved.get(f"{assignment.stage}:{assignment.level}", set())
    wanted = sections_to_claim(
        requested=command.sections,
        allowed=assignment.allowed_sections,
        all_sections=shape.review_sections(assignment.stage),
        held_by_others=held - set(assignment.assigned_sections),
        whole=takes_all_sections(shape.stage(assignment.stage), assignment.level),
    )
    new = [section for section in wanted if section not in assignment.assigned_sections]
    if not new:
        raise Conflict("this reviewer already holds these sections")
    return new


def check_review_start(case: CaseSnapshot, command: StartReviewInput) -> None:
    """A review starts on an assigned row, by its reviewer, while the application is submitted."""
    assignment = find(case, command.assignment_id)
    if command.actor != assignment.reviewer_id:
        raise Forbidden("only the assignment's reviewer starts its review")
    if assignment.status != AssignmentStatus.ASSIGNED:
        raise Conflict("take sections of this assignment before starting its review")
    if case.status != ApplicationStatus.SUBMITTED:
        raise Conflict(f"the application is {case.status.value}; reviews start once submitted")
    status = assignment.review_status
    if status is not None and status != ReviewStatus.DRAFT and status not in RESTARTABLE:
        allowed = "a DRAFT, PENDING or CHANGES_REQUESTED review"
        raise Conflict(f"the review is {status.value}; only {allowed} can be (re)started")


def check_review_submit(case: CaseSnapshot, command: SubmitReviewInput) -> None:
    """Only the reviewer submits a DRAFT review, while the application is submitted."""
    assignment = next((a for a in case.assignments if a.review_id == command.review_id), None)
    if assignment is None:
        raise NotFound(f"review {command.review_id} is not open on this application")
    if command.actor != assignment.reviewer_id:
        raise Forbidden("only the review's reviewer submits it")
    if assignment.review_status != ReviewStatus.DRAFT:
        status = assignment.review_status.value if assignment.review_status else "not started"
        raise Conflict(f"the review is {status}; only a DRAFT review can be submitted")
    if case.status != ApplicationStatus.SUBMITTED:
        raise Conflict(f"the application is {case.status.value}; reviews are closed")
