"""A submitted review's decision and what it does to the case (inside the submit transaction)."""

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from activities.case import (
    close_assignments,
    complete,
    open_level,
    set_assessment_status,
    shape_of,
    template_of,
)
from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.errors import Conflict
from domain.review import (
    ResponseDecision,
    ReviewDecision,
    ReviewStatus,
    ensure_submittable,
)
from models.application import Application
from models.assessment import Assessment, AssessmentSection
from models.event import publish, write_audit
from models.review import (
    Assignment,
    Review,
    ReviewResponse,
    live_responses,
    reason_kinds,
    situation_of,
)
from workflows.payloads.review import CaseShape, RecordReviewSubmissionInput


def apply_decision(
    session: Session,
    application: Application,
    review: Review,
    command: RecordReviewSubmissionInput,
) -> None:
    """Refuse what the table refuses; otherwise trim, submit and apply the decision."""
    template = template_of(session, application)
    shape = shape_of(template)
    stage = shape.stage(review.stage)
    assignment = session.get(Assignment, review.assignment_id)
    assert assignment is not None
    responses = live_responses(session, application, review, assignment.assigned_sections)
    situation = situation_of(
        review, stage.levels, stage.final_decision, responses, reason_kinds(session, application.id)
    )
    ensure_submittable(
        situation, command.decision, [r.target_id for r in responses if r.decision is None]
    )
    _trim_and_stamp(session, review, command.at)
    review.status = ReviewStatus.SUBMITTED.value
    review.decision = command.decision.value if command.decision else None
    review.comment = command.comment
    review.time_submitted = command.at
    review.updated_at = command.at
    session.add(review)
    key = f"review:{review.id}:submitted:{review.round}"
    detail = {
        "review_id": review.id,
        "stage": review.stage,
        "level": review.level,
        "decision": review.decision,
        "round": review.round,
    }
    write_audit(
        session,
        subject_kind="application",
        subject_id=application.id,
        at=command.at,
        actor=command.actor,
        action="review_submitted",
        key=key,
        detail=detail,
    )
    publish(
        session,
        type="review.submitted",
        subject=review.id,
        at=command.at,
        key=key,
        data={"application_id": application.id, **detail},
    )
    decided = [r for r in responses if r.decision is not None]
    if command.decision is None:
        _reach_next_level(session, application, shape, review, command.at)
        return
    _judge_sections(session, application.id, decided)
    match command.decision:
        case ReviewDecision.CONFORM:
            _conform(session, application, shape, command.actor, command.at)
        case ReviewDecision.NON_CONFORM:
            complete(
                session,
                application,
                outcome=ApplicationOutcome.REJECTED,
                reason="NON_CONFORM",
                actor=command.actor,
                at=command.at,
            )
        case ReviewDecision.LIST_OF_QUESTIONS:
            _send_questions(session, application, shape, decided, command.actor, command.at)
        case ReviewDecision.CHANGES_REQUESTED:
            raise Conflict("changes can be requested only by a consolidation review")


def _trim_and_stamp(session: Session, review: Review, at: datetime) -> None:
    """Undecided responses are trimmed; the rest are stamped as submitted."""
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
        .values(submitted_at=at)
    )


def _reach_next_level(
    session: Session, application: Application, shape: CaseShape, review: Review, at: datetime
) -> None:
    """A lower level submits upward: open the next level once, or set its review PENDING."""
    above = review.level + 1
    existing = session.exec(
        select(Assignment.id).where(
            Assignment.application_id == application.id,
            Assignment.stage == review.stage,
            Assignment.level == above,
            col(Assignment.closed_at).is_(None),
        )
    ).all()
    if not existing:
        open_level(session, application, shape, review.stage, above, at)
        return
    application.level = above
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id).in_(existing),
            col(Review.status) == ReviewStatus.SUBMITTED.value,
        )
        .values(status=ReviewStatus.PENDING.value, updated_at=at)
    )


def _judge_sections(session: Session, application_id: str, decided: list[ReviewResponse]) -> None:
    """A section passes when all its answers were approved; its reasons are its declines'."""
    by_section: dict[str, list[ReviewResponse]] = {}
    for response in decided:
        by_section.setdefault(response.section_code, []).append(response)
    assessment_id = f"asm-{application_id}"
    for code, responses in by_section.items():
        declines = [r.failure_reason for r in responses if r.decision == ResponseDecision.DECLINE]
        session.execute(
            update(AssessmentSection)
            .where(
                col(AssessmentSection.assessment_id) == assessment_id,
                col(AssessmentSection.code) == code,
            )
            .values(
                passed=not declines, selected_failure_reasons=sorted({r for r in declines if r})
            )
        )


def _conform(
    session: Session, application: Application, shape: CaseShape, actor: str, at: datetime
) -> None:
    """Next stage's level 1, or APPROVED after the last stage."""
    codes = [stage.code for stage in shape.stages]
    position = codes.index(application.stage or codes[0])
    if position == len(codes) - 1:
        complete(
            session,
            application,
            outcome=ApplicationOutcome.APPROVED,
            reason=None,
            actor=actor,
            at=at,
        )
        return
    close_assignments(session, application.id, at)
    following = shape.stages[position + 1]
    open_level(session, application, shape, following.code, 1, at)
    assessment = session.exec(
        select(Assessment.status).where(Assessment.application_id == application.id)
    ).one()
    if assessment == AssessmentStatus.PRE_ASSESSMENT.value and not following.pre_assessment:
        set_assessment_status(session, application.id, AssessmentStatus.NOT_STARTED, at)
    write_audit(
        session,
        subject_kind="application",
        subject_id=application.id,
        at=at,
        actor=actor,
        action="stage_entered",
        key=f"application:{application.id}:stage:{following.code}",
        detail={"stage": following.code},
    )


def _send_questions(
    session: Session,
    application: Application,
    shape: CaseShape,
    decided: list[ReviewResponse],
    actor: str,
    at: datetime,
) -> None:
    """Declines recommended for the applicant become visible; the LOQ clock starts."""
    questions = [
        r
        for r in decided
        if r.decision == ResponseDecision.DECLINE and r.recommended_applicant_visibility
    ]
    if not questions:
        raise Conflict("a list of questions needs at least one decline visible to the applicant")
    application.loq_round += 1
    days = (
        shape.loq_deadline_days
        if application.loq_round == 1
        else (shape.loq_followup_deadline_days)
    )
    for response in questions:
        response.is_visible_to_applicant = True
        response.loq_round = application.loq_round
        session.add(response)
    application.status = ApplicationStatus.CHANGES_REQUIRED.value
    application.loq_deadline_at = at + timedelta(days=days)
    set_assessment_status(session, application.id, AssessmentStatus.AWAITING_INFORMATION, at)
    key = f"application:{application.id}:loq_sent:{application.loq_round}"
    detail = {
        "loq_round": application.loq_round,
        "deadline_at": application.loq_deadline_at.isoformat(),
        "questions": [r.element_code for r in questions],
    }
    write_audit(
        session,
        subject_kind="application",
        subject_id=application.id,
        at=at,
        actor=actor,
        action="loq_sent",
        key=key,
        detail=detail,
    )
    publish(
        session,
        type="application.loq_sent",
        subject=application.id,
        at=at,
        key=key,
        data={"application_id": application.id, **detail},
    )
