"""Pieces every case activity shares: locks, the snapshot, opening a level, closing a case."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.errors import Conflict, NotFound
from domain.review import AssignmentStatus, ReviewStatus, is_self_assignable
from domain.template import TemplateDefinition
from models.application import Application
from models.assessment import Assessment
from models.event import publish, write_audit
from models.review import Assignment, HeldSection, Review
from models.review_queries import open_assignments
from models.template import definition_of, get_version
from models.user import User
from workflows.payloads.review import AssignmentView, CaseShape, CaseSnapshot, StageShape


def lock_application(session: Session, application_id: str) -> Application:
    """The application row, locked for the rest of the transaction."""
    application = session.exec(
        select(Application).where(Application.id == application_id).with_for_update()
    ).one_or_none()
    if application is None:
        raise NotFound(f"application {application_id} does not exist")
    return application


def record_change(
    session: Session,
    application_id: str,
    *,
    actor: str,
    at: datetime,
    action: str,
    key: str,
    detail: dict[str, Any],
    event: str | None = None,
    subject: str | None = None,
) -> None:
    """The application's audit row and, when others care, its outbox event (same key)."""
    write_audit(
        session,
        subject_kind="application",
        subject_id=application_id,
        at=at,
        actor=actor,
        action=action,
        key=key,
        detail=detail,
    )
    if event is not None:
        publish(
            session,
            type=event,
            subject=subject or application_id,
            at=at,
            key=key,
            data={"application_id": application_id, **detail},
        )


def template_of(session: Session, application: Application) -> TemplateDefinition:
    """The template version the application was started on."""
    template = get_version(session, application.template_code, application.template_version)
    if template is None:
        raise NotFound(
            f"template {application.template_code} v{application.template_version} is missing"
        )
    return definition_of(template)


def shape_of(template: TemplateDefinition) -> CaseShape:
    """The structure the workflow keeps for the application's life."""
    return CaseShape(
        sections=[section.code for section in template.sections],
        preliminary_sections=[s.code for s in template.sections if s.preliminary],
        stages=[
            StageShape.model_validate(stage.model_dump(exclude={"name"}))
            for stage in template.stages
        ],
        loq_deadline_days=template.loq_deadline_days,
        loq_followup_deadline_days=template.loq_followup_deadline_days,
        loq_reminder_days_before=sorted(set(template.loq_reminder_days_before), reverse=True),
    )


def assessment_of(session: Session, application_id: str) -> Assessment:
    """The application's assessment (it exists once submitted)."""
    return session.exec(
        select(Assessment).where(Assessment.application_id == application_id).with_for_update()
    ).one()


def set_assessment_status(
    session: Session, application_id: str, status: AssessmentStatus, at: datetime
) -> None:
    """Move the assessment to `status`."""
    assessment = assessment_of(session, application_id)
    if assessment.status != status.value:
        assessment.status = status.value
        assessment.updated_at = at
        session.add(assessment)


def bump(session: Session, application: Application, at: datetime) -> None:
    """Every change raises the revision, so the workflow keeps only the newest snapshot."""
    application.revision += 1
    application.updated_at = at
    session.add(application)


def snapshot(session: Session, application: Application) -> CaseSnapshot:
    """The case as the workflow mirrors it: status, level, open assignments and reviews."""
    session.flush()
    rows = session.exec(open_assignments(application.id)).all()
    assessment = session.exec(
        select(Assessment.status).where(Assessment.application_id == application.id)
    ).first()
    return CaseSnapshot(
        application_id=application.id,
        revision=application.revision,
        status=ApplicationStatus(application.status),
        outcome=ApplicationOutcome(application.outcome) if application.outcome else None,
        outcome_reason=application.outcome_reason,
        stage=application.stage,
        level=application.level,
        submissions=application.submission_count,
        assessment_status=AssessmentStatus(assessment) if assessment else None,
        loq_round=application.loq_round,
        loq_deadline_at=application.loq_deadline_at,
        assignments=[_view(assignment, review) for assignment, review in rows],
    )


def _view(assignment: Assignment, review: Review | None) -> AssignmentView:
    return AssignmentView(
        id=assignment.id,
        reviewer_id=assignment.reviewer_id,
        stage=assignment.stage,
        level=assignment.level,
        status=AssignmentStatus(assignment.status),
        allowed_sections=assignment.allowed_sections,
        assigned_sections=assignment.assigned_sections,
        is_self_assignable=assignment.is_self_assignable,
        review_id=review.id if review else None,
        review_status=ReviewStatus(review.status) if review else None,
    )


def granted_sections(
    session: Session, template_code: str, stage: str, level: int
) -> dict[str, list[str] | None]:
    """Users granted review of (template, stage, level) and the sections each may take."""
    wanted: Any = [{"template_code": template_code, "stage": stage, "level": level}]
    users = session.exec(select(User).where(col(User.review_grants).contains(wanted))).all()
    granted: dict[str, list[str] | None] = {}
    for user in users:
        for grant in user.review_grants:
            if (grant["template_code"], grant["stage"], grant["level"]) == (
                template_code,
                stage,
                level,
            ):
                sections = grant.get("sections")
                granted[user.id] = list(sections) if isinstance(sections, list) else None
    return granted


def open_level(
    session: Session,
    application: Application,
    shape: CaseShape,
    stage_code: str,
    level: int,
    at: datetime,
) -> None:
    """Reach (stage, level): one AVAILABLE assignment per granted user."""
    application.stage, application.level = stage_code, level
    for reviewer_id, sections in granted_sections(
        session, application.template_code, stage_code, level
    ).items():
        add_assignment(session, application, shape, stage_code, level, reviewer_id, sections, at)
    record_change(
        session,
        application.id,
        actor="system",
        at=at,
        action="level_reached",
        key=f"application:{application.id}:level:{stage_code}:{level}:{application.revision}",
        detail={"stage": stage_code, "level": level},
    )


def allowed_for(shape: CaseShape, stage_code: str, sections: list[str] | None) -> list[str] | None:
    """A grant's sections as a row keeps them: reviewable ones, in template order (None = all)."""
    if sections is None:
        return None
    return [section for section in shape.review_sections(stage_code) if section in sections]


def add_assignment(
    session: Session,
    application: Application,
    shape: CaseShape,
    stage_code: str,
    level: int,
    reviewer_id: str,
    sections: list[str] | None,
    at: datetime,
) -> None:
    """An AVAILABLE row for `reviewer_id`, limited to the `sections` the grant names."""
    stage = shape.stage(stage_code)
    session.add(
        Assignment(
            id=str(uuid.uuid4()),
            application_id=application.id,
            stage=stage_code,
            level=level,
            reviewer_id=reviewer_id,
            allowed_sections=allowed_for(shape, stage_code, sections),
            is_self_assignable=is_self_assignable(stage),
            is_last_level=level == stage.levels,
            is_last_stage=stage_code == shape.stages[-1].code,
            is_final_decision=stage.final_decision,
            created_at=at,
            updated_at=at,
        )
    )


def close_assignments(session: Session, application_id: str, at: datetime) -> None:
    """End every open assignment; unsubmitted reviews become DISCONTINUED."""
    open_ids = select(Assignment.id).where(
        Assignment.application_id == application_id, col(Assignment.closed_at).is_(None)
    )
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id).in_(open_ids),
            col(Review.status) != ReviewStatus.SUBMITTED.value,
        )
        .values(status=ReviewStatus.DISCONTINUED.value, updated_at=at)
    )
    session.execute(delete(HeldSection).where(col(HeldSection.assignment_id).in_(open_ids)))
    session.execute(
        update(Assignment)
        .where(
            col(Assignment.application_id) == application_id, col(Assignment.closed_at).is_(None)
        )
        .values(closed_at=at, updated_at=at)
    )


def complete(
    session: Session,
    application: Application,
    *,
    outcome: ApplicationOutcome,
    reason: str | None,
    actor: str,
    at: datetime,
) -> None:
    """Complete the application with `outcome`; assignments end, the assessment completes."""
    application.status = ApplicationStatus.COMPLETED.value
    application.outcome = outcome.value
    application.outcome_reason = reason
    application.loq_deadline_at = None
    close_assignments(session, application.id, at)
    set_assessment_status(session, application.id, AssessmentStatus.COMPLETED, at)
    key = f"application:{application.id}:completed"
    detail = {"outcome": outcome.value, "reason": reason}
    record_change(
        session,
        application.id,
        actor=actor,
        at=at,
        action="completed",
        key=key,
        detail=detail,
        event="application.completed",
    )


def open_assignment(session: Session, application: Application, assignment_id: str) -> Assignment:
    """The locked, still open assignment of `application` (404 / 409 otherwise)."""
    assignment = session.get(Assignment, assignment_id, with_for_update=True)
    if assignment is None or assignment.application_id != application.id:
        raise NotFound(f"assignment {assignment_id} does not exist")
    if assignment.closed_at is not None:
        raise Conflict("this assignment has ended")
    return assignment


def audit(
    session: Session,
    application: Application,
    actor: str,
    at: datetime,
    action: str,
    detail: dict[str, object],
) -> None:
    """An audit row on the application keyed by its next revision."""
    key = f"application:{application.id}:{action}:{application.revision + 1}"
    record_change(
        session, application.id, actor=actor, at=at, action=action, key=key, detail=detail
    )
