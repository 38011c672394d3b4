"""Applications: drafts and reads straight on PostgreSQL (transitions go through the workflow)."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, tuple_
from sqlmodel import Session, col, select

from api.fields import new_row, same_named
from api.pagination import Page, decode_cursor, decode_position, encode_cursor
from domain.access import (
    APPLICANT_HISTORY,
    Principal,
    applicant_entry,
    can_act_on_application,
    can_read_application,
    sees_full_history,
)
from domain.application import (
    ApplicationAction,
    ApplicationStatus,
    check_answer,
    check_complete,
    ensure_allowed,
)
from domain.errors import Forbidden, Invalid, NotFound, field_error
from models.application import (
    Application,
    ApplicationPublic,
    ApplicationResponse,
    ApplicationSummary,
    HistoryEntry,
    QuestionPublic,
    ResponsePublic,
    latest_responses,
    mark_withdrawn,
)
from models.assessment import (
    Assessment,
    AssessmentPublic,
    AssessmentSection,
    AssessmentSectionPublic,
)
from models.event import AuditEntry, Change
from models.review import overdue_application_ids
from models.review_queries import loq_questions
from models.template import definition_of, get_version
from workflows.payloads.application import StartApplicationReviewInput
from workflows.payloads.resumption import Resumption


def create(session: Session, caller: Principal, template_code: str, *, at: datetime) -> Application:
    """A new draft on the latest version of `template_code`."""
    with session.begin():
        template = get_version(session, template_code)
        if template is None:
            raise Invalid(
                f"template {template_code} does not exist",
                errors=[field_error("template_code", "no such template")],
            )
        application = new_row(
            Application,
            at,
            template_code=template.code,
            template_version=template.version,
            applicant_id=caller.sub,
        )
        session.add(application)
        session.flush()
        key = f"application:{application.id}:created"
        detail = {"template_version": template.version}
        Change("application", application.id, "created", caller.sub, at, key).audit(session, detail)
    return application


def save_response(
    session: Session,
    caller: Principal,
    application_id: str,
    element_code: str,
    value: Any,
    *,
    at: datetime,
) -> ResponsePublic:
    """Write an answer: edit the unsubmitted copy, or add a new version after submission."""
    with session.begin():
        application = _owned(session, caller, application_id, lock=True)
        ensure_allowed(ApplicationAction.EDIT, application.status)
        template = get_version(session, application.template_code, application.template_version)
        assert template is not None
        check_answer(definition_of(template), element_code, value)
        latest = session.exec(
            select(ApplicationResponse)
            .where(
                ApplicationResponse.application_id == application.id,
                ApplicationResponse.element_code == element_code,
            )
            .order_by(col(ApplicationResponse.version).desc())
            .limit(1)
        ).first()
        response = _next_version(session, application.id, element_code, latest, value, at)
        session.add(response)
        application.updated_at = at
        session.add(application)
    return ResponsePublic(element_code=element_code, value=value, response_id=response.id)


def _next_version(
    session: Session,
    application_id: str,
    element_code: str,
    latest: ApplicationResponse | None,
    value: Any,
    at: datetime,
) -> ApplicationResponse:
    """The row now holding the answer: the edited copy, a new copy, or the unchanged answer."""
    if latest is not None and latest.submitted_at is None:
        previous = _submitted_before(session, latest)
        if previous is not None and previous.value == value:
            session.delete(latest)  # back to the submitted answer: no copy is kept
            return previous
        latest.value = value
        latest.updated_at = at
        return latest
    if latest is not None and latest.value == value:
        return latest
    return ApplicationResponse(
        id=str(uuid.uuid4()),
        application_id=application_id,
        element_code=element_code,
        version=(latest.version + 1) if latest else 1,
        value=value,
        created_at=at,
        updated_at=at,
    )


def _submitted_before(session: Session, latest: ApplicationResponse) -> ApplicationResponse | None:
    return session.exec(
        select(ApplicationResponse).where(
            ApplicationResponse.application_id == latest.application_id,
            ApplicationResponse.element_code == latest.element_code,
            ApplicationResponse.version == latest.version - 1,
        )
    ).first()


def prepare_submission(
    engine: Engine, caller: Principal, application_id: str
) -> tuple[Application, str]:
    """Refuse early (409/422) what the workflow would refuse; return it and its answers' digest.

    The digest names the answers being submitted: a double click submits the same
    answers (one update), while a retry after a refusal, with changed answers, is new.
    """
    with Session(engine) as session:
        application = _owned(session, caller, application_id)
        ensure_allowed(ApplicationAction.SUBMIT, application.status)
        template = get_version(session, application.template_code, application.template_version)
        assert template is not None
        latest = latest_responses(session, application.id)
        check_complete(definition_of(template), {r.element_code: r.value for r in latest})
        digest = hashlib.sha256(
            json.dumps(
                sorted((r.element_code, r.id, r.version, r.value) for r in latest), default=str
            ).encode()
        ).hexdigest()[:16]
        session.expunge(application)
        return application, digest


def withdraw_draft(
    engine: Engine, caller: Principal, application_id: str, *, at: datetime
) -> Application:
    """Withdraw a draft directly; a submitted application is returned for its workflow."""
    with Session(engine) as session, session.begin():
        application = _owned(session, caller, application_id, lock=True)
        status = application.status
        ensure_allowed(ApplicationAction.WITHDRAW, status)
        if status == ApplicationStatus.DRAFT:
            mark_withdrawn(session, application, actor=caller.sub, at=at, reason=None)
        session.flush()
        session.expunge(application)
        return application


def get(session: Session, caller: Principal, application_id: str) -> ApplicationPublic:
    """One application as the caller may see it."""
    application = _readable(session, caller, application_id)
    responses = [
        ResponsePublic(element_code=r.element_code, value=r.value, response_id=r.id)
        for r in latest_responses(session, application.id)
    ]
    return ApplicationPublic(
        **application.model_dump(
            exclude={"updated_at", "submission_count", "level", "loq_round", "revision"}
        ),
        responses=responses,
        questions=_questions(session, application),
    )


def _questions(session: Session, application: Application) -> list[QuestionPublic]:
    """The current LOQ round's declines made visible to the applicant (nothing else)."""
    if application.status != ApplicationStatus.CHANGES_REQUIRED:
        return []
    rows = loq_questions(session, application.id, application.loq_round)
    return [
        QuestionPublic(
            element_code=r.element_code,
            response_id=r.target_id,
            comment=r.comment,
            failure_reason=r.failure_reason,
        )
        for r in rows
    ]


def history(
    session: Session, caller: Principal, application_id: str, *, limit: int, cursor: str | None
) -> Page[HistoryEntry]:
    """The audit trail, oldest first (in the order it was written); an applicant reads
    only the entries made for them, with their visible details."""
    application = _readable(session, caller, application_id)
    query = select(AuditEntry).where(
        AuditEntry.subject_kind == "application", AuditEntry.subject_id == application.id
    )
    full = sees_full_history(caller)
    if not full:
        query = query.where(col(AuditEntry.action).in_(APPLICANT_HISTORY))
    if cursor:
        query = query.where(col(AuditEntry.id) > decode_position(cursor))
    rows = session.exec(query.order_by(col(AuditEntry.id)).limit(limit + 1)).all()
    items = [_entry(caller, row, full=full) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_cursor(last.at, str(last.id)) if last else None
    return Page[HistoryEntry](items=items, next_cursor=next_cursor)


def _entry(caller: Principal, row: AuditEntry, *, full: bool) -> HistoryEntry:
    actor, detail = row.actor, row.detail
    if not full:
        shown = applicant_entry(caller, actor=row.actor, action=row.action, detail=row.detail)
        assert shown is not None  # the query kept only entries made for the applicant
        actor, detail = shown
    return HistoryEntry(at=row.at, actor=actor, action=row.action, detail=detail)


def assessment(session: Session, caller: Principal, application_id: str) -> AssessmentPublic:
    """The application's assessment (internal: the route refuses applicants); 404 before
    the first submission."""
    application = _readable(session, caller, application_id)
    found = session.exec(
        select(Assessment).where(Assessment.application_id == application.id)
    ).first()
    if found is None:
        raise NotFound(f"application {application_id} has no assessment until it is submitted")
    sections = session.exec(
        select(AssessmentSection)
        .where(
            AssessmentSection.assessment_id == found.id, col(AssessmentSection.retired_at).is_(None)
        )
        .order_by(col(AssessmentSection.position))
    ).all()
    return AssessmentPublic(
        id=found.id,
        status=found.status,
        template_code=found.template_code,
        template_version=found.template_version,
        sections=[
            AssessmentSectionPublic.model_validate(s, from_attributes=True) for s in sections
        ],
    )


def get_all(
    session: Session,
    *,
    status: ApplicationStatus | None,
    stage: str | None,
    limit: int,
    cursor: str | None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> Page[ApplicationSummary]:
    """Applications newest first, filtered by status, stage, and overdue reviews at `now`."""
    query = select(Application)
    if overdue is not None and now is not None:
        late = col(Application.id).in_(overdue_application_ids(now))
        query = query.where(late if overdue else ~late)
    if status is not None:
        query = query.where(Application.status == status)
    if stage is not None:
        query = query.where(Application.stage == stage)
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            tuple_(Application.created_at, Application.id) < tuple_(after_at, after_id)
        )
    rows = session.exec(
        query.order_by(col(Application.created_at).desc(), col(Application.id).desc()).limit(
            limit + 1
        )
    ).all()
    items = [ApplicationSummary.model_validate(r, from_attributes=True) for r in rows[:limit]]
    next_cursor = (
        encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    return Page[ApplicationSummary](items=items, next_cursor=next_cursor)


def _readable(session: Session, caller: Principal, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None or not can_read_application(
        caller, applicant_id=application.applicant_id
    ):
        raise NotFound(f"application {application_id} does not exist")
    return application


def _owned(
    session: Session, caller: Principal, application_id: str, *, lock: bool = False
) -> Application:
    """The caller's own application (404 for anyone else's: existence is not leaked)."""
    application = session.get(Application, application_id, with_for_update=lock)
    if application is None or not can_read_application(
        caller, applicant_id=application.applicant_id
    ):
        raise NotFound(f"application {application_id} does not exist")
    if not can_act_on_application(caller, applicant_id=application.applicant_id):
        raise Forbidden("only the applicant who owns this application can change it")
    return application


def start_input(
    application: Application, resumed: Resumption | None = None
) -> StartApplicationReviewInput:
    """What the application's review workflow starts from (it loads the rest itself)."""
    fields = same_named(application, "template_code", "template_version", "applicant_id")
    return StartApplicationReviewInput(application_id=application.id, resumed=resumed, **fields)
