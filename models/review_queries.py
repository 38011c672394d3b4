"""The review cycle's selects: open assignments, held sections, a review's targets and verdicts.

One home for the reads the API services and the activities share.

Level 1 decides the applicant's latest answers. A level above decides the latest
responses of the *submitted* reviews one level below; following those targets
down leads to the level-1 response a verdict is ultimately about (its origin).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from domain.review import ResponseDecision, ReviewStatus, Situation, Verdict
from domain.review_guards import Seat
from domain.review_plan import Decided, Origin
from domain.template import FailureReasonKind, TemplateDefinition
from models.application import Application, latest_responses
from models.assessment import Assessment, AssessmentSection
from models.review import Assignment, HeldSection, Review, ReviewResponse, current_responses
from models.views import view_of


@dataclass(frozen=True)
class Target:
    """One thing a review must decide: an answer (level 1) or a lower response."""

    id: str
    element_code: str
    section_code: str


def element_sections(template: TemplateDefinition) -> dict[str, str]:
    """Element code → section code."""
    return {e.code: s.code for s in template.sections for e in s.elements}


ASSIGNMENT_ORDER = (col(Assignment.stage), col(Assignment.level), col(Assignment.reviewer_id))


def open_assignments(application_id: str) -> Select[Assignment, Review]:
    """Open assignment rows of an application with their review (if any), in list order."""
    return (
        select(Assignment, Review)
        .join(Review, col(Review.assignment_id) == col(Assignment.id), isouter=True)
        .where(Assignment.application_id == application_id, col(Assignment.closed_at).is_(None))
        .order_by(*ASSIGNMENT_ORDER)
    )


def open_at(session: Session, application_id: str, stage: str, level: int) -> list[Assignment]:
    """Open assignment rows at (stage, level)."""
    query: SelectOfScalar[Assignment] = select(Assignment).where(
        Assignment.application_id == application_id,
        Assignment.stage == stage,
        Assignment.level == level,
        col(Assignment.closed_at).is_(None),
    )
    return list(session.exec(query).all())


def held_by_others(session: Session, assignment: Assignment) -> set[str]:
    """Sections other assignments hold at the assignment's stage and level."""
    return set(
        session.exec(
            select(HeldSection.section).where(
                HeldSection.application_id == assignment.application_id,
                HeldSection.stage == assignment.stage,
                HeldSection.level == assignment.level,
                HeldSection.assignment_id != assignment.id,
            )
        ).all()
    )


def seat_of(application: Application, assignment: Assignment, review: Review | None) -> Seat:
    """What the review guards read of the locked rows."""
    return Seat(
        application_status=application.status,
        reviewer_id=assignment.reviewer_id,
        assignment_status=assignment.status,
        is_self_assignable=assignment.is_self_assignable,
        review_status=review.status if review else None,
    )


def loq_questions(session: Session, application_id: str, loq_round: int) -> list[ReviewResponse]:
    """The responses sent to the applicant in LOQ round `loq_round`, by element."""
    return list(
        session.exec(
            select(ReviewResponse)
            .join(Review, col(Review.id) == col(ReviewResponse.review_id))
            .where(
                Review.application_id == application_id,
                col(ReviewResponse.is_visible_to_applicant).is_(True),
                ReviewResponse.loq_round == loq_round,
            )
            .order_by(col(ReviewResponse.element_code))
        ).all()
    )


def review_of(session: Session, assignment_id: str, *, lock: bool = False) -> Review | None:
    """The assignment's review, if it was started."""
    query = select(Review).where(Review.assignment_id == assignment_id)
    return session.exec(query.with_for_update() if lock else query).first()


def reviews_at(
    session: Session,
    application_id: str,
    stage: str,
    level: int,
    *,
    status: ReviewStatus | None = None,
) -> list[tuple[Review, Assignment]]:
    """Reviews at `level` of `stage` on open assignments (only those in `status`, if given)."""
    query = (
        select(Review, Assignment)
        .join(Assignment, col(Assignment.id) == col(Review.assignment_id))
        .where(
            Review.application_id == application_id,
            Review.stage == stage,
            Review.level == level,
            col(Assignment.closed_at).is_(None),
        )
    )
    if status is not None:
        query = query.where(Review.status == status)
    return list(session.exec(query).all())


def lower_reviews(
    session: Session, application_id: str, stage: str, level: int
) -> list[tuple[Review, Assignment]]:
    """Submitted reviews at `level` of `stage` on open assignments."""
    return reviews_at(session, application_id, stage, level, status=ReviewStatus.SUBMITTED)


def current_targets(
    session: Session,
    application: Application,
    review: Review | Assignment,
    sections: list[str],
    sections_of: Mapping[str, str],
) -> list[Target]:
    """The targets a review at `review.level` must decide within `sections`."""
    if review.level == 1:
        return [
            Target(r.id, r.element_code, sections_of[r.element_code])
            for r in latest_responses(session, application.id)
            if sections_of.get(r.element_code) in sections
        ]
    targets = []
    for lower, assignment in lower_reviews(session, application.id, review.stage, review.level - 1):
        for response in current_responses(session, lower, assignment.assigned_sections):
            if response.section_code in sections and response.decision is not None:
                targets.append(Target(response.id, response.element_code, response.section_code))
    return targets


def live_responses(
    session: Session,
    application: Application,
    review: Review,
    sections: list[str],
    sections_of: Mapping[str, str],
) -> list[ReviewResponse]:
    """The review's newest responses whose target is still current (superseded drop out)."""
    current = {t.id for t in current_targets(session, application, review, sections, sections_of)}
    return [r for r in current_responses(session, review, sections) if r.target_id in current]


def origin(
    session: Session, response: ReviewResponse, levels: dict[str, int] | None = None
) -> ReviewResponse:
    """The level-1 response a (consolidation) response is ultimately about; `levels` (review
    id → level) spares the lookups a caller already made and keeps the ones made here."""
    levels = {} if levels is None else levels
    row = response
    while True:
        if row.review_id not in levels:
            levels[row.review_id] = session.exec(
                select(Review.level).where(Review.id == row.review_id)
            ).one()
        if levels[row.review_id] == 1:
            return row
        lower = session.get(ReviewResponse, row.target_id)
        if lower is None:
            return row
        row = lower


def reason_kinds(
    session: Session, application_id: str, *, include_retired: bool = True
) -> dict[str, dict[str, FailureReasonKind]]:
    """Per assessment section, its failure reasons (code → kind) as snapshotted; a reason a
    check-list sync retired still explains old declines but cannot be chosen again."""
    sections = session.exec(
        select(AssessmentSection)
        .join(Assessment, col(Assessment.id) == col(AssessmentSection.assessment_id))
        .where(Assessment.application_id == application_id)
    ).all()
    return {
        s.code: {
            r["code"]: FailureReasonKind(r["kind"])
            for r in s.failure_reasons
            if include_retired or not r.get("retired")
        }
        for s in sections
    }


def verdicts(
    session: Session,
    review: Review,
    responses: list[ReviewResponse],
    kinds: Mapping[str, Mapping[str, FailureReasonKind]],
) -> tuple[Verdict, ...]:
    """Each response as the decision table sees it (consolidations judge their origins)."""
    result = []
    for response in responses:
        base = origin(session, response) if review.level > 1 else response
        result.append(
            Verdict(
                decision=response.decision,
                reason_kind=kinds.get(base.section_code, {}).get(base.failure_reason or ""),
                lower_decision=(base.decision if review.level > 1 and base.decision else None),
                visible=base.recommended_applicant_visibility,
            )
        )
    return tuple(result)


def situation_of(
    session: Session,
    application: Application,
    review: Review,
    assignment: Assignment,
    template: TemplateDefinition,
) -> tuple[list[ReviewResponse], Situation]:
    """The review's live responses and its situation for the decision table: one reading
    for the view and the submission alike."""
    stage = next(s for s in template.stages if s.code == review.stage)
    responses = live_responses(
        session, application, review, assignment.assigned_sections, element_sections(template)
    )
    judged = verdicts(session, review, responses, reason_kinds(session, application.id))
    lower = (
        lower_reviews(session, application.id, review.stage, review.level - 1)
        if review.level > 1
        else []
    )
    situation = Situation(
        level=review.level,
        levels=stage.levels,
        final_decision=stage.final_decision,
        verdicts=judged,
        stage_sections=tuple(template.reviewed_sections(review.stage)),
        lower_covered=frozenset(s for _, row in lower for s in row.assigned_sections),
    )
    return responses, situation


def disagreed_by_level_above(session: Session, review: Review) -> list[str]:
    """Targets (response ids) the open level above currently disagrees with."""
    above = reviews_at(session, review.application_id, review.stage, review.level + 1)
    return [
        row.target_id
        for consolidation, assignment in above
        for row in current_responses(session, consolidation, assignment.assigned_sections)
        if row.decision == ResponseDecision.DISAGREE
    ]


def decided_of(session: Session, responses: list[ReviewResponse]) -> tuple[Decided, ...]:
    """The decided responses as the planner reads them: decision, target's review, origin."""
    decided = [r for r in responses if r.decision is not None]
    owners = dict(
        session.exec(
            select(ReviewResponse.id, ReviewResponse.review_id).where(
                col(ReviewResponse.id).in_([r.target_id for r in decided])
            )
        ).all()
    )
    # One query for the levels of the decided responses' own reviews (usually one review).
    levels = dict(
        session.exec(
            select(Review.id, Review.level).where(
                col(Review.id).in_(sorted({r.review_id for r in decided}))
            )
        ).all()
    )
    result = []
    for response in decided:
        assert response.decision is not None
        base = origin(session, response, levels)
        first = view_of(
            Origin, base, response_id=base.id, visible=base.recommended_applicant_visibility
        )
        owner = owners.get(response.target_id)
        result.append(Decided(response.decision, response.target_id, owner, first))
    return tuple(result)
