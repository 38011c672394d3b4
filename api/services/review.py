"""Assignments and reviews: reads and draft writes on PostgreSQL (transitions use the workflow)."""

from datetime import UTC, datetime

from sqlalchemy import Engine, tuple_
from sqlmodel import Session, col, select

from api.fields import M, new_row, same_named
from api.pagination import Page, decode_cursor, encode_cursor
from domain.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from domain.review import (
    ReviewStatus,
    allowed_decisions,
    can_submit,
    check_response_decision,
    waiting_sections,
)
from domain.review_deadline import is_overdue
from models.application import Application
from models.review import (
    Assignment,
    AssignmentPublic,
    Review,
    ReviewPublic,
    ReviewResponse,
    ReviewResponsePublic,
    ReviewResponseWrite,
)
from models.review_queries import (
    ASSIGNMENT_ORDER,
    element_sections,
    held_by_others,
    live_responses,
    open_assignments,
    reason_kinds,
    review_of,
    situation_of,
)
from models.template import definition_of, get_version
from workflows.payloads.review import CaseSnapshot


def _detached(session: Session, model: type[M], key: str, what: str) -> M:
    """The row by its key, detached from the session (404 naming `what` when absent)."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{what} {key} does not exist")
    session.expunge(found)
    return found


def application_of_assignment(session: Session, assignment_id: str) -> Assignment:
    """The assignment (404 when absent)."""
    return _detached(session, Assignment, assignment_id, "assignment")


def get_review_row(session: Session, review_id: str) -> Review:
    """The review row (404 when absent)."""
    return _detached(session, Review, review_id, "review")


# Which application an assignment or a review belongs to never changes once the row exists
# (rows are neither deleted nor moved), so each API process keeps what it read or was told
# (decision 0100): a command on a known row goes to its workflow without a database read.
_OWNERS: dict[tuple[str, str], str] = {}
_MAX_OWNERS = 65_536


def known_owner(kind: str, key: str) -> str | None:
    """The application of assignment or review `key`, if this process knows it."""
    return _OWNERS.get((kind, key))


def remember_owner(kind: str, key: str, application_id: str) -> None:
    """Keep the row's application (all forgotten at once when the bound is reached)."""
    if len(_OWNERS) >= _MAX_OWNERS:
        _OWNERS.clear()
    _OWNERS[(kind, key)] = application_id


def owner_of(engine: Engine, kind: str, key: str) -> str:
    """The application of assignment or review `key`: one primary-key read of one column
    (404 naming the row when absent)."""
    if kind == "review":
        query = select(col(Review.application_id)).where(col(Review.id) == key)
    else:
        query = select(col(Assignment.application_id)).where(col(Assignment.id) == key)
    with engine.connect() as connection:
        found = connection.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"{kind} {key} does not exist")
    return str(found)


def shown_assignment(case: CaseSnapshot, assignment_id: str) -> AssignmentPublic | None:
    """The row as the API shows it, from a claim's update answer (decision 0100); None
    when the snapshot does not carry it whole (another activity's, or one recorded before:
    the caller reads the row instead)."""
    view = next((a for a in case.assignments if a.id == assignment_id), None)
    if view is None:
        return None
    whole = (view.available_sections, view.is_last_level, view.is_last_stage)
    if None in (*whole, view.is_final_decision):
        return None
    return AssignmentPublic.model_validate(
        {**view.model_dump(), "application_id": case.application_id}
    )


def assignments(
    session: Session, application_id: str, *, limit: int, cursor: str | None
) -> Page[AssignmentPublic]:
    """Open assignment rows of an application by stage, level and reviewer, with the
    sections still available to each."""
    if session.get(Application, application_id) is None:
        raise NotFound(f"application {application_id} does not exist")
    query = open_assignments(application_id)
    if cursor:
        after = _cursor_row(session, application_id, cursor)
        query = query.where(
            tuple_(*ASSIGNMENT_ORDER) > tuple_(after.stage, after.level, after.reviewer_id)
        )
    rows = session.exec(query.limit(limit + 1)).all()
    items = [assignment_public(session, row, review) for row, review in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = encode_cursor(last.created_at, last.id) if last else None
    return Page[AssignmentPublic](items=items, next_cursor=next_cursor)


def _cursor_row(session: Session, application_id: str, cursor: str) -> Assignment:
    """The row a cursor of this application's list points after (rows are never deleted)."""
    _, after_id = decode_cursor(cursor)
    row = session.get(Assignment, after_id)
    if row is None or row.application_id != application_id:
        raise Invalid(
            "the cursor is not valid", errors=[field_error("cursor", "not this list's cursor")]
        )
    return row


def assignment_public(
    session: Session, assignment: Assignment, review: Review | None = None
) -> AssignmentPublic:
    """One row: `available_sections` are its allowed ones nobody else holds at that level."""
    application = session.get(Application, assignment.application_id)
    assert application is not None
    template = definition_of(
        get_version(session, application.template_code, application.template_version)  # type: ignore[arg-type]
    )
    reviewable = template.reviewed_sections(assignment.stage)
    held = held_by_others(session, assignment)
    allowed = reviewable if assignment.allowed_sections is None else assignment.allowed_sections
    if review is None:
        review = review_of(session, assignment.id)
    return AssignmentPublic(
        **assignment.model_dump(exclude={"created_at", "updated_at", "closed_at"}),
        available_sections=[s for s in allowed if s not in held and s in reviewable],
        review_id=review.id if review else None,
        review_status=review.status if review else None,
    )


def review(session: Session, review_id: str, *, now: datetime | None = None) -> ReviewPublic:
    """A review with its current responses, allowed decisions, can_submit and missing, and
    its reviewer's clock (`due_at`; `overdue` once it passed at `now`)."""
    row = get_review_row(session, review_id)
    assignment = session.get(Assignment, row.assignment_id)
    application = session.get(Application, row.application_id)
    assert assignment is not None
    assert application is not None
    template = definition_of(
        get_version(session, application.template_code, application.template_version)  # type: ignore[arg-type]
    )
    responses, situation = situation_of(session, application, row, assignment, template)
    editable = row.status == ReviewStatus.DRAFT
    waiting = waiting_sections(situation)
    return ReviewPublic(
        **row.model_dump(exclude={"updated_at"}),
        is_last_level=assignment.is_last_level,
        is_last_stage=assignment.is_last_stage,
        is_final_decision=assignment.is_final_decision,
        due_at=assignment.due_at,
        overdue=assignment.overdue_at is not None
        or is_overdue(assignment.due_at, now or datetime.now(UTC)),
        responses=[ReviewResponsePublic.model_validate(r, from_attributes=True) for r in responses],
        allowed_decisions=allowed_decisions(situation) if editable else [],
        can_submit=editable and can_submit(situation),
        missing=[r.target_id for r in responses if r.decision is None] + waiting,
        missing_sections=waiting,
    )


def write_response(
    session: Session,
    reviewer: str,
    review_id: str,
    target_id: str,
    body: ReviewResponseWrite,
    *,
    at: datetime,
) -> ReviewResponsePublic:
    """A draft write: edit this round's row, or add one; an unchanged copy is not kept."""
    with session.begin():
        row = session.get(Review, review_id, with_for_update=True)
        if row is None:
            raise NotFound(f"review {review_id} does not exist")
        if row.reviewer_id != reviewer:
            raise Forbidden("only the review's reviewer writes its decisions")
        if row.status != ReviewStatus.DRAFT:
            raise Conflict(
                f"the review is {row.status}; only a DRAFT review can be edited", allowed=[]
            )
        application = session.get(Application, row.application_id)
        assignment = session.get(Assignment, row.assignment_id)
        assert application is not None
        assert assignment is not None
        current = {
            r.target_id: r
            for r in live_responses(
                session,
                application,
                row,
                assignment.assigned_sections,
                _sections_of(session, application),
            )
        }
        latest = current.get(target_id)
        if latest is None:
            raise NotFound(f"{target_id} is not a current target of this review")
        check_response_decision(
            level=row.level,
            decision=body.decision,
            failure_reason=body.failure_reason,
            section_reasons=reason_kinds(session, application.id, include_retired=False).get(
                latest.section_code, {}
            ),
        )
        visibility = body.recommended_applicant_visibility
        wanted: dict[str, object] = {
            "decision": body.decision,
            "comment": body.comment,
            "failure_reason": body.failure_reason,
            "recommended_applicant_visibility": True if visibility is None else visibility,
        }
        return _save(session, row, latest, wanted, at)


def _save(
    session: Session,
    review: Review,
    latest: ReviewResponse,
    wanted: dict[str, object],
    at: datetime,
) -> ReviewResponsePublic:
    if latest.submitted_at is None:
        previous = _previous(session, review, latest)
        if previous is not None and _same(previous, wanted):
            session.delete(latest)  # back to what was submitted: keep no duplicate
            return ReviewResponsePublic.model_validate(previous, from_attributes=True)
        for field, value in wanted.items():
            setattr(latest, field, value)
        latest.updated_at = at
        session.add(latest)
        return ReviewResponsePublic.model_validate(latest, from_attributes=True)
    if _same(latest, wanted):
        return ReviewResponsePublic.model_validate(latest, from_attributes=True)
    copy = new_row(
        ReviewResponse,
        at,
        review_id=review.id,
        round=review.round,
        **same_named(latest, "target_id", "element_code", "section_code"),
        **wanted,
    )
    session.add(copy)
    return ReviewResponsePublic.model_validate(copy, from_attributes=True)


def _previous(session: Session, review: Review, latest: ReviewResponse) -> ReviewResponse | None:
    return session.exec(
        select(ReviewResponse)
        .where(
            ReviewResponse.review_id == review.id,
            ReviewResponse.target_id == latest.target_id,
            col(ReviewResponse.round) < latest.round,
        )
        .order_by(col(ReviewResponse.round).desc())
        .limit(1)
    ).first()


def _same(response: ReviewResponse, wanted: dict[str, object]) -> bool:
    return all(getattr(response, field) == value for field, value in wanted.items())


def _sections_of(session: Session, application: Application) -> dict[str, str]:
    template = get_version(session, application.template_code, application.template_version)
    assert template is not None
    return element_sections(definition_of(template))
