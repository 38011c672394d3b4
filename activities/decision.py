"""A review's submission: the checks made under the row locks, then its effect on the case."""

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from activities.case import complete, shape_of, template_of
from activities.effects import (
    conform,
    judge_sections,
    reach_next_level,
    record_submission,
    request_changes,
    send_questions,
)
from domain.application import ApplicationOutcome
from domain.errors import Conflict
from domain.review import (
    ResponseDecision,
    ReviewDecision,
    ReviewStatus,
    ensure_submittable,
    waiting_sections,
)
from models.application import Application
from models.review import Assignment, Review, ReviewResponse, current_responses
from models.review_targets import situation_of
from workflows.payloads.review import RecordReviewSubmissionInput


def apply_decision(
    session: Session, application: Application, review: Review, command: RecordReviewSubmissionInput
) -> None:
    """Refuse what the rules refuse; otherwise trim, submit and apply the decision."""
    template = template_of(session, application)
    shape = shape_of(template)
    assignment = session.get(Assignment, review.assignment_id)
    assert assignment is not None
    responses, situation = situation_of(session, application, review, assignment, template)
    if not waiting_sections(situation):  # waiting for the level below is the first reason
        _ensure_disagreements_answered(session, application, review, responses)
    ensure_submittable(
        situation, command.decision, [r.target_id for r in responses if r.decision is None]
    )
    _trim_and_stamp(session, review, command)
    record_submission(session, application, review, command)
    decided = [r for r in responses if r.decision is not None]
    match command.decision:
        case None:
            reach_next_level(session, application, shape, review, command.at)
        case ReviewDecision.CONFORM:
            conform(session, application, shape, decided, command)
        case ReviewDecision.NON_CONFORM:
            judge_sections(session, application.id, decided)
            complete(
                session,
                application,
                outcome=ApplicationOutcome.REJECTED,
                reason="NON_CONFORM",
                actor=command.actor,
                at=command.at,
            )
        case ReviewDecision.LIST_OF_QUESTIONS:
            send_questions(session, application, shape, decided, command)
        case ReviewDecision.CHANGES_REQUESTED:
            request_changes(session, application, review, decided, command.at)


def _ensure_disagreements_answered(
    session: Session, application: Application, review: Review, responses: list[ReviewResponse]
) -> None:
    """After CHANGES_REQUESTED, every response the level above disagreed with must change."""
    mine = {r.id: r.element_code for r in responses}
    above = session.exec(
        select(Review, Assignment)
        .join(Assignment, col(Assignment.id) == col(Review.assignment_id))
        .where(
            Review.application_id == application.id,
            Review.stage == review.stage,
            Review.level == review.level + 1,
            col(Assignment.closed_at).is_(None),
        )
    ).all()
    unchanged = sorted(
        mine[row.target_id]
        for consolidation, assignment in above
        for row in current_responses(session, consolidation, assignment.assigned_sections)
        if row.decision == ResponseDecision.DISAGREE.value and row.target_id in mine
    )
    if unchanged:
        raise Conflict(
            f"change every response the level above disagreed with; unchanged: "
            f"{', '.join(unchanged)}",
            allowed=[],
        )


def _trim_and_stamp(session: Session, review: Review, command: RecordReviewSubmissionInput) -> None:
    """Undecided responses are trimmed; the rest are stamped; the review is submitted."""
    session.execute(
        delete(ReviewResponse).where(
            col(ReviewResponse.review_id) == review.id, col(ReviewResponse.decision).is_(None)
        )
    )
    session.execute(
        update(ReviewResponse)
        .where(
            col(ReviewResponse.review_id) == review.id, col(ReviewResponse.submitted_at).is_(None)
        )
        .values(submitted_at=command.at)
    )
    review.status = ReviewStatus.SUBMITTED.value
    review.decision = command.decision.value if command.decision else None
    review.comment = command.comment
    review.time_submitted = command.at
    review.updated_at = command.at
    session.add(review)
