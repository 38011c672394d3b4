"""A consolidation waits for the level below: nothing is allowed until every section of the
stage has a submitted lower-level review, and what it waits for is named."""

import pytest

from domain.errors import Conflict
from domain.review import (
    ResponseDecision,
    ReviewDecision,
    Situation,
    Verdict,
    allowed_decisions,
    can_submit,
    ensure_submittable,
    waiting_sections,
)
from domain.template import FailureReasonKind

AGREED = Verdict(ResponseDecision.AGREE, lower_decision=ResponseDecision.APPROVE)
DISAGREED = Verdict(ResponseDecision.DISAGREE, lower_decision=ResponseDecision.APPROVE)
AGREED_DECLINE = Verdict(
    ResponseDecision.AGREE, FailureReasonKind.FURTHER_INFORMATION, ResponseDecision.DECLINE
)
OPEN = Verdict(None, lower_decision=ResponseDecision.APPROVE)
APPROVED = Verdict(ResponseDecision.APPROVE)
SECTIONS = ("personal", "qualifications", "references")


def at_level(
    level: int,
    *verdicts: Verdict,
    covered: set[str],
    levels: int = 2,
    sections: tuple[str, ...] = SECTIONS,
) -> Situation:
    """A review at `level` whose level below has submitted reviews covering `covered`."""
    return Situation(
        level=level,
        levels=levels,
        final_decision=False,
        verdicts=verdicts,
        stage_sections=sections,
        lower_covered=frozenset(covered),
    )


# (situation, sections still waited for, can submit, allowed decisions)
READINESS: dict[str, tuple[Situation, list[str], bool, list[ReviewDecision]]] = {
    "no-lower-review-submitted": (at_level(2, covered=set()), list(SECTIONS), False, []),
    "one-section-still-in-draft-below": (
        at_level(2, AGREED, AGREED, covered={"personal", "references"}),
        ["qualifications"],
        False,
        [],
    ),
    "one-section-unassigned-below": (
        at_level(2, AGREED, covered={"personal", "qualifications"}),
        ["references"],
        False,
        [],
    ),
    "disagreement-while-waiting": (
        at_level(2, DISAGREED, covered={"personal"}),
        ["qualifications", "references"],
        False,
        [],
    ),
    "agreed-decline-while-waiting": (
        at_level(2, AGREED_DECLINE, covered={"personal", "qualifications"}),
        ["references"],
        False,
        [],
    ),
    "waiting-and-undecided": (
        at_level(2, OPEN, covered={"personal"}),
        ["qualifications", "references"],
        False,
        [],
    ),
    "middle-level-waiting": (
        at_level(2, AGREED, covered={"personal"}, levels=3),
        ["qualifications", "references"],
        False,
        [],
    ),
    "third-level-waiting-for-second": (
        at_level(3, AGREED, covered={"personal", "qualifications"}, levels=3),
        ["references"],
        False,
        [],
    ),
    "all-submitted-all-agreed": (
        at_level(2, AGREED, covered=set(SECTIONS)),
        [],
        True,
        [ReviewDecision.CONFORM],
    ),
    "all-submitted-one-undecided": (
        at_level(2, AGREED, OPEN, covered=set(SECTIONS)),
        [],
        False,
        [],
    ),
    "all-submitted-disagreed": (
        at_level(2, AGREED, DISAGREED, covered=set(SECTIONS)),
        [],
        True,
        [ReviewDecision.CHANGES_REQUESTED],
    ),
    "all-submitted-nothing-to-decide": (at_level(2, covered=set(SECTIONS)), [], False, []),
    "covered-beyond-the-stage": (
        at_level(2, AGREED, covered={*SECTIONS, "retired"}),
        [],
        True,
        [ReviewDecision.CONFORM],
    ),
    "level-1-never-waits": (
        at_level(1, APPROVED, covered=set(), levels=1),
        [],
        True,
        [ReviewDecision.CONFORM],
    ),
    "level-1-of-two-never-waits": (at_level(1, APPROVED, covered=set()), [], True, []),
}
CASES = [
    pytest.param(situation, waiting, submittable, allowed, id=name)
    for name, (situation, waiting, submittable, allowed) in READINESS.items()
]
WAITING = [
    pytest.param(situation, waiting, id=name)
    for name, (situation, waiting, _, _) in READINESS.items()
    if waiting
]


@pytest.mark.parametrize(("situation", "waiting", "submittable", "allowed"), CASES)
def test_readiness_over_every_situation(
    situation: Situation, waiting: list[str], submittable: bool, allowed: list[ReviewDecision]
) -> None:
    assert waiting_sections(situation) == waiting
    assert can_submit(situation) is submittable
    assert allowed_decisions(situation) == allowed


@pytest.mark.parametrize("decision", [None, *ReviewDecision])
@pytest.mark.parametrize(("situation", "waiting"), WAITING)
def test_submitting_while_waiting_is_refused_naming_the_sections(
    situation: Situation, waiting: list[str], decision: ReviewDecision | None
) -> None:
    with pytest.raises(Conflict) as refused:
        ensure_submittable(situation, decision, [])
    assert refused.value.allowed == []
    level_below = situation.level - 1
    assert refused.value.detail.startswith(
        f"level {level_below} has not submitted every section yet"
    )
    assert refused.value.detail.endswith(f"missing: {', '.join(waiting)}")
