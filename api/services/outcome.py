"""Outcome reads (one visibility rule for every view) and what submissions need checked."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.pagination import Page, encode_cursor, newest_first
from api.services.candidate_status import StatusChange, change_status
from domain.access import Principal
from domain.errors import Conflict, Invalid, NotFound, field_error
from domain.outcome import (
    EXTERNAL_PENDING,
    Audience,
    CandidateStatus,
    OutcomeKind,
    OutcomeStatus,
    RebookingKind,
    audience,
    can_rebook,
    external_scopes,
    grade_visible,
    may_see,
)
from models.candidate import Candidate, Element, lock_candidate
from models.event import Change
from models.outcome import (
    Outcome,
    OutcomeExternalPending,
    OutcomeExternalReleased,
    OutcomeInternal,
    OutcomeView,
    Rebooking,
    RebookingPublic,
    lock_outcome,
)
from models.views import view_of


def present(outcome: Outcome, who: Principal) -> OutcomeView:
    """The outcome as `who` may see it: external users get no grade or dates until release."""
    if audience(who) == Audience.INTERNAL:
        return internal_view(outcome)
    if not grade_visible(who, outcome.status):
        return view_of(OutcomeExternalPending, outcome, status=EXTERNAL_PENDING)
    return view_of(OutcomeExternalReleased, outcome)


def internal_view(outcome: Outcome) -> OutcomeInternal:
    """Staff (and awarding organisation) view: the grade from submission, flagged while held."""
    status = outcome.status
    return view_of(
        OutcomeInternal,
        outcome,
        pending_qa=status in (OutcomeStatus.IN_QA, OutcomeStatus.AMENDMENT_REQUIRED),
        pending_release=status == OutcomeStatus.PENDING_RELEASE,
    )


def visible_to(who: Principal) -> ColumnElement[bool]:
    """SQL filter on (Outcome join Candidate): the rows `who` may see at all."""
    if audience(who) == Audience.INTERNAL:
        return and_(True)
    columns = {
        "candidate_id": col(Candidate.id),
        "provider_id": col(Candidate.provider_id),
        "employer_id": col(Candidate.employer_id),
    }
    scopes = [columns[name] == org for name, org in external_scopes(who).items()]
    return or_(*scopes) if scopes else false()


def get(session: Session, who: Principal, kind: OutcomeKind, outcome_id: str) -> OutcomeView:
    """One outcome, or 404 when absent or not the caller's."""
    return present(load(session, who, kind, outcome_id)[0], who)


def load(
    session: Session, who: Principal, kind: OutcomeKind, outcome_id: str
) -> tuple[Outcome, Candidate]:
    """The outcome and its candidate, when `who` may see them (404 otherwise)."""
    row = session.exec(
        select(Outcome, Candidate)
        .join(Candidate, col(Candidate.id) == col(Outcome.candidate_id))
        .where(Outcome.id == outcome_id, Outcome.kind == kind)
    ).one_or_none()
    if row is None or not may_see(
        who,
        candidate_id=row[1].id,
        provider_id=row[1].provider_id,
        employer_id=row[1].employer_id,
    ):
        raise NotFound(f"{kind} {outcome_id} does not exist")
    return row[0], row[1]


def get_all(
    session: Session,
    who: Principal,
    kind: OutcomeKind,
    *,
    candidate_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[OutcomeView]:
    """The caller's outcomes of `kind`, newest first."""
    query = (
        select(Outcome)
        .join(Candidate, col(Candidate.id) == col(Outcome.candidate_id))
        .where(Outcome.kind == kind, visible_to(who))
    )
    if candidate_id:
        query = query.where(Outcome.candidate_id == candidate_id)
    at, id = col(Outcome.submitted_at), col(Outcome.id)
    rows = session.exec(newest_first(query, at, id, cursor=cursor, limit=limit)).all()
    items = [present(row, who) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page[OutcomeView](
        items=items, next_cursor=encode_cursor(last.submitted_at, last.id) if last else None
    )


def submission_target(
    session: Session, *, element_id: str | None, candidate_id: str | None
) -> tuple[Candidate, Element | None]:
    """The candidate (and element) a submission is about; 422 naming the field otherwise."""
    element = None
    if element_id is not None:
        element = session.get(Element, element_id)
        if element is None:
            raise Invalid(
                "the element does not exist", errors=[field_error("element_id", "no such element")]
            )
        candidate_id = element.candidate_id
    candidate = session.get(Candidate, candidate_id) if candidate_id else None
    if candidate is None:
        raise Invalid(
            "the candidate does not exist",
            errors=[field_error("candidate_id", "no such candidate")],
        )
    return candidate, element


def rebook(
    session: Session, who: Principal, kind: RebookingKind, result_id: str, *, at: datetime
) -> tuple[RebookingPublic, StatusChange | None]:
    """Book a resit or retake: only on a failed result that has been released. A retake
    puts the candidate into retake review (the change returned, for the caller to follow)."""
    with session.begin():
        outcome = lock_outcome(session, OutcomeKind.RESULT, result_id)
        can_rebook(grade=outcome.grade, status=outcome.status)
        booking = Rebooking(
            id=str(uuid.uuid4()),
            kind=kind,
            result_id=result_id,
            requested_by=who.sub,
            created_at=at,
        )
        session.add(booking)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"a {kind} is already booked for result {result_id}") from None
        detail: dict[str, Any] = {"booking_id": booking.id}
        key = f"result:{result_id}:{kind}"
        Change("result", result_id, f"{kind}_booked", who.sub, at, key).audit(session, detail)
        change = None
        if kind == RebookingKind.RETAKE:  # the candidate enters retake review only now
            change = _enter_retake_review(session, outcome.candidate_id, actor=who.sub, at=at)
    public = RebookingPublic(id=booking.id, kind=booking.kind, result_id=result_id, created_at=at)
    return public, change


def _enter_retake_review(
    session: Session, candidate_id: str, *, actor: str, at: datetime
) -> StatusChange | None:
    candidate = lock_candidate(session, candidate_id)
    return change_status(session, candidate, CandidateStatus.RETAKE_REVIEW, actor=actor, at=at)
