"""What a submitted review does to its case: the whole table of transitions, decided purely."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.application import ApplicationOutcome, AssessmentStatus
from domain.errors import Conflict
from domain.review import ResponseDecision, ReviewDecision
from domain.review_plan import (
    CaseTransition,
    ChangesRequested,
    Complete,
    Decided,
    ListOfQuestions,
    NextLevel,
    NextStage,
    Origin,
    SectionResult,
    Submitted,
    judge_sections,
    plan_after_submission,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
APPROVE, DECLINE = ResponseDecision.APPROVE, ResponseDecision.DECLINE
AGREE, DISAGREE = ResponseDecision.AGREE, ResponseDecision.DISAGREE
PRE_ASSESSMENT = AssessmentStatus.PRE_ASSESSMENT


@dataclass(frozen=True)
class StageShape:
    """A stage as the planner reads it."""

    code: str
    pre_assessment: bool = False


@dataclass(frozen=True)
class Shape:
    """A template's structure as the planner reads it: three stages, 28- and 14-day LOQs."""

    stages: tuple[StageShape, ...] = field(
        default=(StageShape("pre", pre_assessment=True), StageShape("main"), StageShape("final"))
    )
    loq_deadline_days: int = 28
    loq_followup_deadline_days: int = 14

    @property
    def loq_deadline_span(self) -> timedelta:
        return timedelta(days=self.loq_deadline_days)

    @property
    def loq_followup_deadline_span(self) -> timedelta:
        return timedelta(days=self.loq_followup_deadline_days)


SHAPE = Shape()


def answer(
    element: str,
    decision: ResponseDecision | None,
    *,
    section: str = "s1",
    reason: str | None = None,
    visible: bool = True,
) -> Origin:
    """A level-1 response to `element` of `section`."""
    return Origin(
        response_id=f"r-{element}",
        element_code=element,
        section_code=section,
        decision=decision,
        failure_reason=reason,
        visible=visible,
    )


def level_one(origin: Origin) -> Decided:
    """The level-1 review's own decided response."""
    assert origin.decision is not None
    return Decided(origin.decision, f"ans-{origin.element_code}", None, origin)


def judged(decision: ResponseDecision, origin: Origin, *, lower_review: str = "rev-1") -> Decided:
    """A consolidation's verdict on `origin`, held by `lower_review`."""
    return Decided(decision, origin.response_id, lower_review, origin)


def submitted(
    decision: ReviewDecision | None,
    *decided: Decided,
    stage: str = "main",
    level: int = 2,
    loq_round: int = 0,
    assessment: AssessmentStatus | None = AssessmentStatus.IN_PROGRESS,
    next_level_open: bool = False,
) -> Submitted:
    """A review of `stage` at `level` submitted with `decision` at `AT`."""
    return Submitted(
        stage=stage,
        level=level,
        decision=decision,
        decided=decided,
        case_stage=stage,
        loq_round=loq_round,
        assessment_status=assessment,
        next_level_open=next_level_open,
        at=AT,
    )


PASSED = (SectionResult("s1", True, ()),)
FAILED = (SectionResult("s1", False, ("fr-1",)),)
APPROVED = level_one(answer("q1", APPROVE))
DECLINED = level_one(answer("q1", DECLINE, reason="fr-1"))
HIDDEN_DECLINE = answer("q2", DECLINE, reason="fr-1", visible=False)

TABLE: list[tuple[str, Submitted, CaseTransition]] = [
    (
        "a middle level submits upward and opens the level above",
        submitted(None, APPROVED, level=1),
        NextLevel("main", 2, opens=True),
    ),
    (
        "a level above that is open already is brought up to date, not opened again",
        submitted(None, APPROVED, level=2, next_level_open=True),
        NextLevel("main", 3, opens=False),
    ),
    (
        "CONFORM before the last stage enters the next one",
        submitted(ReviewDecision.CONFORM, APPROVED),
        NextStage(PASSED, "final", assessment_status=None),
    ),
    (
        "CONFORM leaving pre-assessment moves the assessment to NOT_STARTED",
        submitted(ReviewDecision.CONFORM, APPROVED, stage="pre", assessment=PRE_ASSESSMENT),
        NextStage(PASSED, "main", assessment_status=AssessmentStatus.NOT_STARTED),
    ),
    (
        "CONFORM on the last stage approves the application",
        submitted(ReviewDecision.CONFORM, APPROVED, stage="final"),
        Complete(PASSED, ApplicationOutcome.APPROVED, None),
    ),
    (
        "NON_CONFORM rejects it, failing the declined section",
        submitted(ReviewDecision.NON_CONFORM, DECLINED),
        Complete(FAILED, ApplicationOutcome.REJECTED, "NON_CONFORM"),
    ),
    (
        "the first list of questions has the first deadline and asks the visible declines",
        submitted(
            ReviewDecision.LIST_OF_QUESTIONS,
            DECLINED,
            level_one(HIDDEN_DECLINE),
            level=1,
        ),
        ListOfQuestions(
            FAILED, loq_round=1, deadline_at=AT + timedelta(days=28), questions=(DECLINED.origin,)
        ),
    ),
    (
        "a follow-up list of questions has the shorter deadline",
        submitted(ReviewDecision.LIST_OF_QUESTIONS, DECLINED, level=1, loq_round=1),
        ListOfQuestions(
            FAILED, loq_round=2, deadline_at=AT + timedelta(days=14), questions=(DECLINED.origin,)
        ),
    ),
    (
        "a consolidation's list of questions asks only the declines it agreed with",
        submitted(
            ReviewDecision.LIST_OF_QUESTIONS,
            judged(AGREE, DECLINED.origin),
            judged(DISAGREE, answer("q3", DECLINE, reason="fr-2")),
        ),
        ListOfQuestions(
            FAILED, loq_round=1, deadline_at=AT + timedelta(days=28), questions=(DECLINED.origin,)
        ),
    ),
    (
        "CHANGES_REQUESTED sends back the reviews holding a disagreed response, one level down",
        submitted(
            ReviewDecision.CHANGES_REQUESTED,
            judged(DISAGREE, answer("q1", APPROVE), lower_review="rev-b"),
            judged(DISAGREE, answer("q2", DECLINE), lower_review="rev-a"),
            judged(DISAGREE, answer("q3", APPROVE), lower_review="rev-b"),
            judged(AGREE, answer("q4", APPROVE), lower_review="rev-c"),
            level=3,
        ),
        ChangesRequested(reviews=("rev-a", "rev-b"), targets=("r-q1", "r-q2", "r-q3"), level=2),
    ),
]


@pytest.mark.parametrize(
    ("submission", "transition"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_the_case_moves_as_the_table_says(
    submission: Submitted, transition: CaseTransition
) -> None:
    assert plan_after_submission(SHAPE, submission) == transition


@pytest.mark.parametrize("case_stage", [None, "pre"])
def test_a_case_without_a_stage_yet_counts_as_in_the_first(case_stage: str | None) -> None:
    submission = replace(submitted(ReviewDecision.CONFORM, APPROVED), case_stage=case_stage)
    assert plan_after_submission(SHAPE, submission) == NextStage(PASSED, "main", None)


@pytest.mark.parametrize(
    "following_pre_assessment", [True, False], ids=["stays in pre-assessment", "leaves it"]
)
def test_the_assessment_leaves_pre_assessment_only_with_its_last_stage(
    following_pre_assessment: bool,
) -> None:
    shape = Shape(stages=(StageShape("a", True), StageShape("b", following_pre_assessment)))
    submission = submitted(
        ReviewDecision.CONFORM, APPROVED, stage="a", assessment=AssessmentStatus.PRE_ASSESSMENT
    )
    plan = plan_after_submission(shape, submission)
    assert isinstance(plan, NextStage)
    expected = None if following_pre_assessment else AssessmentStatus.NOT_STARTED
    assert plan.assessment_status == expected


@pytest.mark.parametrize(
    "decided",
    [
        (APPROVED,),
        (level_one(HIDDEN_DECLINE),),
        (judged(DISAGREE, DECLINED.origin),),
        (judged(AGREE, HIDDEN_DECLINE),),
    ],
    ids=["nothing declined", "only hidden declines", "declines disagreed", "agreed but hidden"],
)
def test_a_list_of_questions_that_would_ask_nothing_is_refused(decided: tuple[Decided]) -> None:
    with pytest.raises(Conflict, match="at least one decline visible"):
        plan_after_submission(SHAPE, submitted(ReviewDecision.LIST_OF_QUESTIONS, *decided))


SECTION_CASES: list[tuple[str, list[Decided], tuple[SectionResult, ...]]] = [
    ("an approved answer passes its section", [APPROVED], PASSED),
    ("a level-1 decline fails it with its reason", [DECLINED], FAILED),
    ("an agreed decline fails it", [judged(AGREE, DECLINED.origin)], FAILED),
    ("a disagreed decline does not", [judged(DISAGREE, DECLINED.origin)], PASSED),
    ("an agreed approval passes", [judged(AGREE, APPROVED.origin)], PASSED),
    (
        "reasons are sorted, once each, and a decline without one adds none",
        [
            level_one(answer("q1", DECLINE, reason="fr-b")),
            level_one(answer("q2", DECLINE, reason="fr-a")),
            level_one(answer("q3", DECLINE, reason="fr-b")),
            level_one(answer("q4", DECLINE)),
        ],
        (SectionResult("s1", False, ("fr-a", "fr-b")),),
    ),
    (
        "each judged section is judged on its own, in the order first met",
        [
            level_one(answer("q1", APPROVE, section="s2")),
            level_one(answer("q2", DECLINE, section="s1", reason="fr-1")),
            level_one(answer("q3", APPROVE, section="s1")),
        ],
        (SectionResult("s2", True, ()), SectionResult("s1", False, ("fr-1",))),
    ),
    ("no decided response judges no section", [], ()),
]


@pytest.mark.parametrize(
    ("decided", "sections"), [row[1:] for row in SECTION_CASES], ids=[r[0] for r in SECTION_CASES]
)
def test_sections_pass_or_fail_on_the_deciding_level(
    decided: list[Decided], sections: tuple[SectionResult, ...]
) -> None:
    assert judge_sections(decided) == sections
