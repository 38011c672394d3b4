"""Writing a planned case transition (domain/review_plan.py), and keeping review rows in step."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from activities.case import (
    announce,
    case_change,
    set_assessment_status,
    template_of,
)
from activities.case_levels import close_assignments, complete, open_level
from domain.application import ApplicationStatus, AssessmentStatus
from domain.review import ReviewStatus
from domain.review_plan import (
    CaseTransition,
    ChangesRequested,
    Complete,
    ListOfQuestions,
    NextLevel,
    NextStage,
    SectionResult,
)
from models.application import Application
from models.assessment import AssessmentSection
from models.review import Assignment, Review, ReviewResponse, current_responses
from models.review_queries import Target, current_targets, element_sections, open_at, review_of
from workflows.payloads.review import CaseShape


def apply_transition(
    session: Session,
    application: Application,
    shape: CaseShape,
    review: Review,
    transition: CaseTransition,
    *,
    actor: str,
    at: datetime,
) -> None:
    """Write `transition` in the submission's transaction, with its audit rows and events."""
    match transition:
        case NextLevel():
            _reach_level(session, application, shape, transition, at)
        case NextStage():
            _record_sections(session, application.id, transition.sections)
            _enter_stage(session, application, shape, transition, actor=actor, at=at)
        case Complete():
            _record_sections(session, application.id, transition.sections)
            complete(
                session,
                application,
                outcome=transition.outcome,
                reason=transition.reason,
                actor=actor,
                at=at,
            )
        case ListOfQuestions():
            _record_sections(session, application.id, transition.sections)
            _send_questions(session, application, transition, actor=actor, at=at)
        case ChangesRequested():
            _request_changes(session, application, review, transition, at)


def _reach_level(
    session: Session, application: Application, shape: CaseShape, step: NextLevel, at: datetime
) -> None:
    """Open the level once; when it is open already, bring its reviews up to date."""
    if step.opens:
        open_level(session, application, shape, step.stage, step.level, at)
        return
    application.level = step.level
    sections_of = element_sections(template_of(session, application))
    for assignment in open_at(session, application.id, step.stage, step.level):
        consolidation = review_of(session, assignment.id)
        if consolidation is None:
            continue
        if consolidation.status == ReviewStatus.SUBMITTED:
            consolidation.status = ReviewStatus.PENDING
            consolidation.updated_at = at
            session.add(consolidation)
        elif consolidation.status == ReviewStatus.DRAFT:
            fill_blanks(session, application, consolidation, assignment, sections_of, at)


def _record_sections(
    session: Session, application_id: str, sections: Sequence[SectionResult]
) -> None:
    for section in sections:
        session.execute(
            update(AssessmentSection)
            .where(
                col(AssessmentSection.assessment_id) == f"asm-{application_id}",
                col(AssessmentSection.code) == section.code,
            )
            .values(passed=section.passed, selected_failure_reasons=list(section.failure_reasons))
        )


def _enter_stage(
    session: Session,
    application: Application,
    shape: CaseShape,
    step: NextStage,
    *,
    actor: str,
    at: datetime,
) -> None:
    close_assignments(session, application.id, at)
    open_level(session, application, shape, step.stage, 1, at)
    if step.assessment_status is not None:
        set_assessment_status(session, application.id, step.assessment_status, at)
    key = f"application:{application.id}:stage:{step.stage}"
    case_change(application, "stage_entered", actor, at, key).audit(session, {"stage": step.stage})


def _send_questions(
    session: Session, application: Application, step: ListOfQuestions, *, actor: str, at: datetime
) -> None:
    """The questions' level-1 responses become visible to the applicant in this LOQ round."""
    for question in step.questions:
        response = session.get(ReviewResponse, question.response_id)
        assert response is not None
        response.is_visible_to_applicant = True
        response.loq_round = step.loq_round
        session.add(response)
    application.loq_round = step.loq_round
    application.status = ApplicationStatus.CHANGES_REQUIRED
    application.loq_deadline_at = step.deadline_at
    set_assessment_status(session, application.id, AssessmentStatus.AWAITING_INFORMATION, at)
    detail = {
        "loq_round": step.loq_round,
        "deadline_at": step.deadline_at.isoformat(),
        "questions": sorted(q.element_code for q in step.questions),
    }
    key = f"application:{application.id}:loq_sent:{step.loq_round}"
    announce(session, case_change(application, "loq_sent", actor, at, key), detail)


def _request_changes(
    session: Session,
    application: Application,
    review: Review,
    step: ChangesRequested,
    at: datetime,
) -> None:
    session.execute(
        update(Review)
        .where(col(Review.id).in_(step.reviews), col(Review.status) == ReviewStatus.SUBMITTED)
        .values(status=ReviewStatus.CHANGES_REQUESTED, updated_at=at)
    )
    application.level = step.level
    key = f"review:{review.id}:changes_requested:{review.round}"
    case_change(application, "changes_requested", review.reviewer_id, at, key).audit(
        session,
        {
            "review_id": review.id,
            "reviews": list(step.reviews),
            "targets": list(step.targets),
        },
    )


def blank(review: Review, target: Target, at: datetime) -> ReviewResponse:
    """An undecided response to `target` in the review's current round."""
    return ReviewResponse(
        id=str(uuid.uuid4()),
        review_id=review.id,
        target_id=target.id,
        element_code=target.element_code,
        section_code=target.section_code,
        round=review.round,
        created_at=at,
        updated_at=at,
    )


def fill_blanks(
    session: Session,
    application: Application,
    review: Review,
    assignment: Assignment,
    sections_of: Mapping[str, str],
    at: datetime,
    *,
    created: bool = False,
) -> int:
    """Add an undecided row for each current target no row answers yet; return how many
    (`created`: the review was inserted in this transaction, so it has no rows to read)."""
    sections = assignment.assigned_sections
    answered = [] if created else current_responses(session, review, sections)
    current = {r.element_code: r for r in answered}
    added = 0
    for target in current_targets(session, application, review, sections, sections_of):
        row = current.get(target.element_code)
        if row is None or row.target_id != target.id:
            session.add(blank(review, target, at))
            added += 1
    session.flush()
    return added
