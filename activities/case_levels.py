"""The levels of a case: assignment rows opened per granted reviewer, closed at a stage's end
or the case's completion."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from activities.case import announce, case_change, set_assessment_status
from domain.application import ApplicationOutcome, ApplicationStatus, AssessmentStatus
from domain.errors import Conflict, NotFound
from domain.review import ReviewStatus, is_self_assignable
from domain.review_deadline import ClockEvent, ReviewClock, due_after
from models.action import ActionStatus, set_action_status
from models.application import Application
from models.review import Assignment, HeldSection, Review
from models.user import User
from workflows.payloads.review import CaseShape


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
    key = f"application:{application.id}:level:{stage_code}:{level}:{application.revision}"
    change = case_change(application, "level_reached", "system", at, key)
    change.audit(session, {"stage": stage_code, "level": level})


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
    """End every open assignment; unsubmitted reviews become DISCONTINUED, and running
    reviewer clocks end with their to-dos (the case or level closed: nothing is due)."""
    timed = session.exec(
        select(Assignment).where(
            Assignment.application_id == application_id,
            col(Assignment.closed_at).is_(None),
            col(Assignment.due_at).is_not(None),
        )
    ).all()
    for assignment in timed:
        end_clock(session, assignment, ClockEvent.CLOSE, at)
    open_ids = select(Assignment.id).where(
        Assignment.application_id == application_id, col(Assignment.closed_at).is_(None)
    )
    session.execute(
        update(Review)
        .where(
            col(Review.assignment_id).in_(open_ids),
            col(Review.status) != ReviewStatus.SUBMITTED,
        )
        .values(status=ReviewStatus.DISCONTINUED, updated_at=at)
    )
    session.execute(delete(HeldSection).where(col(HeldSection.assignment_id).in_(open_ids)))
    session.execute(
        update(Assignment)
        .where(
            col(Assignment.application_id) == application_id, col(Assignment.closed_at).is_(None)
        )
        .values(closed_at=at, updated_at=at)
    )


def clock_key(assignment: Assignment, due_at: datetime, step: str) -> str:
    """The business key of a clock's step: one per clock (a fresh clock has new keys)."""
    return f"review-clock:{assignment.id}:{due_at.isoformat()}:{step}"


def end_clock(session: Session, assignment: Assignment, event: ClockEvent, at: datetime) -> None:
    """The reviewer's clock ends (submitted, restarted, given back): its to-dos are done."""
    if assignment.due_at is not None:
        for step in ("reminder", "overdue"):
            key = clock_key(assignment, assignment.due_at, step)
            set_action_status(session, key, ActionStatus.DONE, at)
    assignment.due_at = due_after(event, ReviewClock(), assignment.due_at, at)
    assignment.overdue_at = None
    assignment.updated_at = at
    session.add(assignment)


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
    application.status = ApplicationStatus.COMPLETED
    application.outcome = outcome
    application.outcome_reason = reason
    application.loq_deadline_at = None
    close_assignments(session, application.id, at)
    set_assessment_status(session, application.id, AssessmentStatus.COMPLETED, at)
    key = f"application:{application.id}:completed"
    detail = {"outcome": outcome.value, "reason": reason}
    announce(session, case_change(application, "completed", actor, at, key), detail)


def open_assignment(session: Session, application: Application, assignment_id: str) -> Assignment:
    """The locked, still open assignment of `application` (404 / 409 otherwise)."""
    assignment = session.get(Assignment, assignment_id, with_for_update=True)
    if assignment is None or assignment.application_id != application.id:
        raise NotFound(f"assignment {assignment_id} does not exist")
    if assignment.closed_at is not None:
        raise Conflict("this assignment has ended")
    return assignment
