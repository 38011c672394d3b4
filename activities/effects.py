"""What a submitted review does to the case: next level, next stage, LOQ, changes, completion."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from activities.case import (
    close_assignments,
    complete,
    open_level,
    record_change,
    set_assessment_status,
    template_of,
)
from activities.review_rows import fill_blanks
from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.errors import Conflict
from domain.review import ResponseDecision, ReviewStatus
from models.application import Application
from models.assessment import Assessment, AssessmentSection
from models.review import Assignment, Review, ReviewResponse
from models.review_targets import element_sections, origin
from workflows.payloads.review import CaseShape, RecordReviewSubmissionInput


def record_submission(
    session: Session, application: Application, review: Review, command: RecordReviewSubmissionInput
) -> None:
    """The audit row and the `review.submitted` event."""
    key = f"review:{review.id}:submitted:{review.round}"
    detail = {
        "review_id": review.id,
        "stage": review.stage,
        "level": review.level,
        "decision": review.decision,
        "round": review.round,
    }
    record_change(
        session,
        application.id,
        actor=command.actor,
        at=command.at,
        action="review_submitted",
        key=key,
        detail=detail,
        event="review.submitted",
        subject=review.id,
    )


def _open_at(
    session: Session, application: Application, stage: str, level: int
) -> list[Assignment]:
    return list(
        session.exec(
            select(Assignment).where(
                Assignment.application_id == application.id,
                Assignment.stage == stage,
                Assignment.level == level,
                col(Assignment.closed_at).is_(None),
            )
        ).all()
    )


def reach_next_level(
    session: Session, application: Application, shape: CaseShape, review: Review, at: datetime
) -> None:
    """A lower level submits upward: open the next level once, else bring its reviews up to date."""
    above = review.level + 1
    rows = _open_at(session, application, review.stage, above)
    if not rows:
        open_level(session, application, shape, review.stage, above, at)
        return
    application.level = above
    sections_of = element_sections(template_of(session, application))
    for assignment in rows:
        consolidation = session.exec(
            select(Review).where(Review.assignment_id == assignment.id)
        ).first()
        if consolidation is None:
            continue
        if consolidation.status == ReviewStatus.SUBMITTED.value:
            consolidation.status = ReviewStatus.PENDING.value
            consolidation.updated_at = at
            session.add(consolidation)
        elif consolidation.status == ReviewStatus.DRAFT.value:
            fill_blanks(session, application, consolidation, assignment, sections_of, at)


def judge_sections(session: Session, application_id: str, decided: list[ReviewResponse]) -> None:
    """A section passes when the deciding level approved all its answers; its reasons are
    those of its agreed declines."""
    by_section: dict[str, list[ReviewResponse]] = {}
    for response in decided:
        base = origin(session, response)
        agreed = response.decision in (ResponseDecision.DECLINE.value, ResponseDecision.AGREE.value)
        if base.decision == ResponseDecision.DECLINE.value and agreed:
            by_section.setdefault(base.section_code, []).append(base)
        else:
            by_section.setdefault(base.section_code, [])
    for code, declines in by_section.items():
        session.execute(
            update(AssessmentSection)
            .where(
                col(AssessmentSection.assessment_id) == f"asm-{application_id}",
                col(AssessmentSection.code) == code,
            )
            .values(
                passed=not declines,
                selected_failure_reasons=sorted({d.failure_reason or "" for d in declines} - {""}),
            )
        )


def conform(
    session: Session,
    application: Application,
    shape: CaseShape,
    decided: list[ReviewResponse],
    command: RecordReviewSubmissionInput,
) -> None:
    """Next stage's level 1, or APPROVED after the last stage."""
    judge_sections(session, application.id, decided)
    codes = [stage.code for stage in shape.stages]
    position = codes.index(application.stage or codes[0])
    if position == len(codes) - 1:
        complete(
            session,
            application,
            outcome=ApplicationOutcome.APPROVED,
            reason=None,
            actor=command.actor,
            at=command.at,
        )
        return
    close_assignments(session, application.id, command.at)
    following = shape.stages[position + 1]
    open_level(session, application, shape, following.code, 1, command.at)
    assessment = session.exec(
        select(Assessment.status).where(Assessment.application_id == application.id)
    ).one()
    if assessment == AssessmentStatus.PRE_ASSESSMENT.value and not following.pre_assessment:
        set_assessment_status(session, application.id, AssessmentStatus.NOT_STARTED, command.at)
    record_change(
        session,
        application.id,
        actor=command.actor,
        at=command.at,
        action="stage_entered",
        key=f"application:{application.id}:stage:{following.code}",
        detail={"stage": following.code},
    )


def send_questions(
    session: Session,
    application: Application,
    shape: CaseShape,
    decided: list[ReviewResponse],
    command: RecordReviewSubmissionInput,
) -> None:
    """The original level-1 declines the deciding level agreed with become visible."""
    judge_sections(session, application.id, decided)
    agreed = [
        r
        for r in decided
        if r.decision in (ResponseDecision.DECLINE.value, ResponseDecision.AGREE.value)
    ]
    origins = [origin(session, r) for r in agreed]
    questions = [
        o
        for o in origins
        if o.decision == ResponseDecision.DECLINE.value and o.recommended_applicant_visibility
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
    application.loq_deadline_at = command.at + timedelta(days=days)
    set_assessment_status(
        session, application.id, AssessmentStatus.AWAITING_INFORMATION, command.at
    )
    key = f"application:{application.id}:loq_sent:{application.loq_round}"
    detail = {
        "loq_round": application.loq_round,
        "deadline_at": application.loq_deadline_at.isoformat(),
        "questions": sorted(r.element_code for r in questions),
    }
    record_change(
        session,
        application.id,
        actor=command.actor,
        at=command.at,
        action="loq_sent",
        key=key,
        detail=detail,
        event="application.loq_sent",
    )


def request_changes(
    session: Session,
    application: Application,
    review: Review,
    decided: list[ReviewResponse],
    at: datetime,
) -> None:
    """Only the lower-level reviews owning a disagreed response go CHANGES_REQUESTED."""
    disagreed = [r.target_id for r in decided if r.decision == ResponseDecision.DISAGREE.value]
    owners = set(
        session.exec(
            select(ReviewResponse.review_id).where(col(ReviewResponse.id).in_(disagreed))
        ).all()
    )
    session.execute(
        update(Review)
        .where(col(Review.id).in_(owners), col(Review.status) == ReviewStatus.SUBMITTED.value)
        .values(status=ReviewStatus.CHANGES_REQUESTED.value, updated_at=at)
    )
    application.level = review.level - 1
    record_change(
        session,
        application.id,
        actor=review.reviewer_id,
        at=at,
        action="changes_requested",
        key=f"review:{review.id}:changes_requested:{review.round}",
        detail={"review_id": review.id, "reviews": sorted(owners), "targets": sorted(disagreed)},
    )
