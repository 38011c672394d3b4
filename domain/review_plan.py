"""What a submitted review does to its case, decided without I/O: the activity applies the plan.

The decision a review carries picks the transition (SPEC §1): none sends it to the next level,
CONFORM to the next stage (or APPROVED after the last), NON_CONFORM completes REJECTED,
LIST_OF_QUESTIONS sends the agreed visible declines to the applicant, CHANGES_REQUESTED sends
the disagreed reviews back one level. Sections pass or fail on the deciding level's verdicts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.application import ApplicationOutcome, AssessmentStatus
from domain.errors import Conflict
from domain.review import ResponseDecision, ReviewDecision

AGREEING = frozenset({ResponseDecision.DECLINE, ResponseDecision.AGREE})


@dataclass(frozen=True)
class Origin:
    """The level-1 response a verdict is ultimately about."""

    response_id: str
    element_code: str
    section_code: str
    decision: ResponseDecision | None
    failure_reason: str | None
    visible: bool


@dataclass(frozen=True)
class Decided:
    """One decided response of the submitted review: what it judged and where that leads."""

    decision: ResponseDecision
    target_id: str
    target_review_id: str | None  # the lower-level review the target belongs to (None at level 1)
    origin: Origin


@dataclass(frozen=True)
class Submitted:
    """The submitted review and the case it moves, as read under the row locks."""

    stage: str
    level: int
    decision: ReviewDecision | None
    decided: tuple[Decided, ...]
    case_stage: str | None
    loq_round: int
    assessment_status: AssessmentStatus | None
    next_level_open: bool  # the level above already has open assignments
    at: datetime


class PlannedStage(Protocol):
    """What the planner reads of a stage."""

    @property
    def code(self) -> str: ...

    @property
    def pre_assessment(self) -> bool: ...


class PlanShape(Protocol):
    """What the planner reads of the template's structure."""

    @property
    def stages(self) -> Sequence[PlannedStage]: ...

    @property
    def loq_deadline_span(self) -> timedelta: ...

    @property
    def loq_followup_deadline_span(self) -> timedelta: ...


@dataclass(frozen=True)
class SectionResult:
    """A section's verdict: it passes unless the deciding level stands behind a decline."""

    code: str
    passed: bool
    failure_reasons: tuple[str, ...]


@dataclass(frozen=True)
class NextLevel:
    """Submitted upward: open the level above (`opens`) or bring its reviews up to date."""

    stage: str
    level: int
    opens: bool


@dataclass(frozen=True)
class NextStage:
    """CONFORM before the last stage: the current level closes, the next stage's level 1 opens."""

    sections: tuple[SectionResult, ...]
    stage: str
    assessment_status: AssessmentStatus | None  # set when leaving pre-assessment


@dataclass(frozen=True)
class Complete:
    """The case ends with `outcome`."""

    sections: tuple[SectionResult, ...]
    outcome: ApplicationOutcome
    reason: str | None


@dataclass(frozen=True)
class ListOfQuestions:
    """The agreed visible declines go to the applicant, answered by `deadline_at`."""

    sections: tuple[SectionResult, ...]
    loq_round: int
    deadline_at: datetime
    questions: tuple[Origin, ...]


@dataclass(frozen=True)
class ChangesRequested:
    """The reviews owning a disagreed response go back to their reviewers; the level drops."""

    reviews: tuple[str, ...]
    targets: tuple[str, ...]
    level: int


CaseTransition = NextLevel | NextStage | Complete | ListOfQuestions | ChangesRequested


def judge_sections(decided: Sequence[Decided]) -> tuple[SectionResult, ...]:
    """Each judged section passes when no agreed decline falls in it; its reasons are those of
    its agreed declines (sorted, once each)."""
    declines: dict[str, list[Origin]] = {}
    for response in decided:
        base = response.origin
        found = declines.setdefault(base.section_code, [])
        if base.decision == ResponseDecision.DECLINE and response.decision in AGREEING:
            found.append(base)
    return tuple(
        SectionResult(
            code=code,
            passed=not rows,
            failure_reasons=tuple(sorted({r.failure_reason for r in rows if r.failure_reason})),
        )
        for code, rows in declines.items()
    )


def questions_of(decided: Sequence[Decided]) -> tuple[Origin, ...]:
    """The declines a list of questions asks about: agreed by the deciding level, visible."""
    return tuple(
        r.origin
        for r in decided
        if r.decision in AGREEING
        and r.origin.decision == ResponseDecision.DECLINE
        and r.origin.visible
    )


def loq_deadline(shape: PlanShape, loq_round: int, at: datetime) -> datetime:
    """The first round's deadline, or the follow-up rounds' shorter one, counted from `at`."""
    span = shape.loq_deadline_span if loq_round == 1 else shape.loq_followup_deadline_span
    return at + span


def plan_after_submission(shape: PlanShape, submitted: Submitted) -> CaseTransition:
    """The case's next step after `submitted` (refused when a list of questions asks nothing)."""
    decided = submitted.decided
    match submitted.decision:
        case None:
            return NextLevel(
                stage=submitted.stage,
                level=submitted.level + 1,
                opens=not submitted.next_level_open,
            )
        case ReviewDecision.CONFORM:
            return _conform(shape, submitted)
        case ReviewDecision.NON_CONFORM:
            return Complete(judge_sections(decided), ApplicationOutcome.REJECTED, "NON_CONFORM")
        case ReviewDecision.LIST_OF_QUESTIONS:
            questions = questions_of(decided)
            if not questions:
                raise Conflict(
                    "a list of questions needs at least one decline visible to the applicant"
                )
            loq_round = submitted.loq_round + 1
            return ListOfQuestions(
                sections=judge_sections(decided),
                loq_round=loq_round,
                deadline_at=loq_deadline(shape, loq_round, submitted.at),
                questions=questions,
            )
        case ReviewDecision.CHANGES_REQUESTED:
            disagreed = [r for r in decided if r.decision == ResponseDecision.DISAGREE]
            return ChangesRequested(
                reviews=tuple(
                    sorted({r.target_review_id for r in disagreed if r.target_review_id})
                ),
                targets=tuple(sorted(r.target_id for r in disagreed)),
                level=submitted.level - 1,
            )


def _conform(shape: PlanShape, submitted: Submitted) -> NextStage | Complete:
    sections = judge_sections(submitted.decided)
    codes = [stage.code for stage in shape.stages]
    position = codes.index(submitted.case_stage or codes[0])
    if position == len(codes) - 1:
        return Complete(sections, ApplicationOutcome.APPROVED, None)
    following = shape.stages[position + 1]
    leaves_pre_assessment = (
        submitted.assessment_status == AssessmentStatus.PRE_ASSESSMENT
        and not following.pre_assessment
    )
    return NextStage(
        sections=sections,
        stage=following.code,
        assessment_status=AssessmentStatus.NOT_STARTED if leaves_pre_assessment else None,
    )
