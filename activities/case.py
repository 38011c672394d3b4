"""The case row every case activity shares: its lock, template, audit, assessment, snapshot."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from activities.rows import lock_row
from domain.application import AssessmentStatus
from domain.errors import NotFound
from domain.template import TemplateDefinition
from models.application import Application
from models.assessment import Assessment
from models.event import Change
from models.review import Assignment
from models.review_queries import open_assignments
from models.template import definition_of, get_version
from models.views import view_of
from workflows.payloads.review import AssignmentView, CaseShape, CaseSnapshot, StageShape


def lock_application(session: Session, application_id: str) -> Application:
    """The application row, locked for the rest of the transaction."""
    return lock_row(
        session, Application, application_id, f"application {application_id} does not exist"
    )


def case_change(
    application: Application, action: str, actor: str, at: datetime, key: str
) -> Change:
    """A change to `application` (its audit rows are the application's)."""
    return Change("application", application.id, action, actor, at, key)


def announce(
    session: Session,
    change: Change,
    detail: dict[str, Any],
    *,
    event_type: str | None = None,
    event_subject: str | None = None,
) -> None:
    """The application's audit row and the event others consume (`application.{action}`
    unless `event_type`), which names the application, under the same key."""
    data = {"application_id": change.subject_id}
    change.record(session, detail, data=data, event_type=event_type, event_subject=event_subject)


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
        loq_reminder_days_before=sorted(set(template.loq_reminder_days_before or ()), reverse=True),
        **template.model_dump(include={"loq_deadline", "loq_followup_deadline"}),
        loq_reminder_before=template.loq_reminder_before,
    )


def assessment_of(session: Session, application_id: str) -> Assessment:
    """The application's assessment (it exists once submitted)."""
    return session.exec(
        select(Assessment).where(Assessment.application_id == application_id).with_for_update()
    ).one()


def assessment_status(session: Session, application_id: str) -> AssessmentStatus | None:
    """Where the application's assessment stands (None before submission)."""
    row = session.exec(select(Assessment).where(Assessment.application_id == application_id))
    assessment = row.first()
    return assessment.status if assessment else None


def set_assessment_status(
    session: Session, application_id: str, status: AssessmentStatus, at: datetime
) -> None:
    """Move the assessment to `status`."""
    assessment = assessment_of(session, application_id)
    if assessment.status != status:
        assessment.status = status
        assessment.updated_at = at
        session.add(assessment)


def bump(session: Session, application: Application, at: datetime) -> None:
    """Every change raises the revision, so the workflow keeps only the newest snapshot."""
    application.revision += 1
    application.updated_at = at
    session.add(application)


def snapshot(
    session: Session, application: Application, shape: CaseShape | None = None
) -> CaseSnapshot:
    """The case as the workflow mirrors it: status, level, open assignments and reviews
    (with `shape`, each row's `available_sections` too, as the API shows them)."""
    session.flush()
    rows = session.exec(open_assignments(application.id)).all()
    assessment = assessment_status(session, application.id)
    return view_of(
        CaseSnapshot,
        application,
        application_id=application.id,
        submissions=application.submission_count,
        assessment_status=assessment,
        assignments=[
            view_of(
                AssignmentView,
                assignment,
                review_id=review.id if review else None,
                review_status=review.status if review else None,
                available_sections=_available(shape, assignment, rows),
            )
            for assignment, review in rows
        ],
    )


def _available(
    shape: CaseShape | None, row: Assignment, rows: Sequence[tuple[Assignment, object]]
) -> list[str] | None:
    """The row's allowed sections that no other open row at its level holds (the held
    rows mirror the open rows' `assigned_sections`), or None without the shape."""
    if shape is None:
        return None
    reviewable = shape.review_sections(row.stage)
    allowed = reviewable if row.allowed_sections is None else row.allowed_sections
    held = {
        section
        for other, _ in rows
        if other.id != row.id and (other.stage, other.level) == (row.stage, row.level)
        for section in other.assigned_sections
    }
    return [s for s in allowed if s not in held and s in reviewable]


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
    case_change(application, action, actor, at, key).audit(session, detail)
