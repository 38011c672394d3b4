"""Review rules: which decisions a submission may carry, when it can be submitted, and why not."""

from itertools import product

import pytest

from domain.errors import Conflict, Invalid
from domain.review import (
    ResponseDecision,
    ReviewDecision,
    Situation,
    Verdict,
    allowed_decisions,
    can_submit,
    check_response_decision,
    ensure_submittable,
    missing,
)
from domain.template import FailureReasonKind

APPROVE, DECLINE = ResponseDecision.APPROVE, ResponseDecision.DECLINE
AGREE, DISAGREE = ResponseDecision.AGREE, ResponseDecision.DISAGREE
CONFORM, NON_CONFORM = ReviewDecision.CONFORM, ReviewDecision.NON_CONFORM
LOQ, CHANGES = ReviewDecision.LIST_OF_QUESTIONS, ReviewDecision.CHANGES_REQUESTED
FURTHER, OUTRIGHT = FailureReasonKind.FURTHER_INFORMATION, FailureReasonKind.DECLINE

# Level 1: the reviewer's own decision on an answer.
UNDECIDED = Verdict(None)
APPROVED = Verdict(APPROVE)
DECLINED = Verdict(DECLINE, FURTHER)
DECLINED_OUTRIGHT = Verdict(DECLINE, OUTRIGHT)
# Above level 1: the consolidator's judgement of a lower-level decision.
PENDING_APPROVAL = Verdict(None, lower_decision=APPROVE)
PENDING_DECLINE = Verdict(None, OUTRIGHT, DECLINE)
AGREED_APPROVAL = Verdict(AGREE, lower_decision=APPROVE)
AGREED_DECLINE = Verdict(AGREE, FURTHER, DECLINE)
AGREED_OUTRIGHT = Verdict(AGREE, OUTRIGHT, DECLINE)
DISAGREED_APPROVAL = Verdict(DISAGREE, lower_decision=APPROVE)
DISAGREED_DECLINE = Verdict(DISAGREE, FURTHER, DECLINE)
DISAGREED_OUTRIGHT = Verdict(DISAGREE, OUTRIGHT, DECLINE)

LEVEL_ONE_POOL = (UNDECIDED, APPROVED, DECLINED, DECLINED_OUTRIGHT)
CONSOLIDATION_POOL = (
    PENDING_APPROVAL,
    PENDING_DECLINE,
    AGREED_APPROVAL,
    AGREED_DECLINE,
    AGREED_OUTRIGHT,
    DISAGREED_APPROVAL,
    DISAGREED_DECLINE,
    DISAGREED_OUTRIGHT,
)


def make_situation(
    *verdicts: Verdict, level: int = 1, levels: int = 1, final_decision: bool = False
) -> Situation:
    """A review at `level` of a `levels`-level stage holding `verdicts`."""
    return Situation(
        level=level,
        levels=levels,
        final_decision=final_decision,
        verdicts=verdicts,
        stage_sections=(),
        lower_covered=frozenset(),
    )


def first_of_two(*verdicts: Verdict, final_decision: bool = False) -> Situation:
    """Level 1 of a two-level stage."""
    return make_situation(*verdicts, levels=2, final_decision=final_decision)


def consolidation(
    *verdicts: Verdict, level: int = 2, levels: int = 2, final_decision: bool = False
) -> Situation:
    """A review of reviews, by default the last level of a two-level stage."""
    return make_situation(*verdicts, level=level, levels=levels, final_decision=final_decision)


def final(*verdicts: Verdict) -> Situation:
    """Level 1 of a single-level final-decision stage."""
    return make_situation(*verdicts, final_decision=True)


# SPEC §1 "Which decisions a submission may carry", row by row (first match wins).
DECISION_TABLE: dict[str, tuple[Situation, list[ReviewDecision]]] = {
    # 1. Level 1 of a multi-level stage submits to the next level.
    "1-multi-level-approved": (first_of_two(APPROVED), []),
    "1-three-levels": (make_situation(APPROVED, levels=3), []),
    "1-declined": (first_of_two(DECLINED, UNDECIDED), []),
    "1-beats-4-outright": (first_of_two(DECLINED_OUTRIGHT), []),
    "1-beats-3-final": (first_of_two(APPROVED, final_decision=True), []),
    "1-final-outright": (first_of_two(DECLINED_OUTRIGHT, final_decision=True), []),
    # 2. A consolidator who disagrees sends the review back.
    "2-disagreed": (consolidation(DISAGREED_APPROVAL), [CHANGES]),
    "2-one-of-two": (consolidation(AGREED_APPROVAL, DISAGREED_APPROVAL), [CHANGES]),
    "2-disagreed-outright": (consolidation(DISAGREED_OUTRIGHT), [CHANGES]),
    "2-beats-4": (consolidation(DISAGREED_DECLINE, AGREED_OUTRIGHT), [CHANGES]),
    "2-beats-5": (consolidation(DISAGREED_APPROVAL, AGREED_DECLINE), [CHANGES]),
    "2-beats-3-final": (consolidation(DISAGREED_APPROVAL, final_decision=True), [CHANGES]),
    "2-level-3": (consolidation(DISAGREED_APPROVAL, level=3, levels=3), [CHANGES]),
    # 3. A final-decision stage always decides conform or not.
    "3-approved": (final(APPROVED), [CONFORM, NON_CONFORM]),
    "3-beats-5": (final(DECLINED), [CONFORM, NON_CONFORM]),
    "3-beats-4": (final(DECLINED_OUTRIGHT, UNDECIDED), [CONFORM, NON_CONFORM]),
    "3-consolidation": (
        consolidation(AGREED_APPROVAL, final_decision=True),
        [CONFORM, NON_CONFORM],
    ),
    "3-consolidation-beats-4": (
        consolidation(AGREED_OUTRIGHT, final_decision=True),
        [CONFORM, NON_CONFORM],
    ),
    # 4. An agreed decline the applicant cannot fix.
    "4-declined-outright": (make_situation(DECLINED_OUTRIGHT), [NON_CONFORM]),
    "4-beats-5": (make_situation(APPROVED, DECLINED, DECLINED_OUTRIGHT), [NON_CONFORM]),
    "4-with-undecided": (make_situation(DECLINED_OUTRIGHT, UNDECIDED), [NON_CONFORM]),
    "4-agreed": (consolidation(AGREED_OUTRIGHT), [NON_CONFORM]),
    "4-agreed-beats-5": (
        consolidation(AGREED_APPROVAL, AGREED_DECLINE, AGREED_OUTRIGHT),
        [NON_CONFORM],
    ),
    "4-level-3": (consolidation(AGREED_OUTRIGHT, level=3, levels=3), [NON_CONFORM]),
    # 5. Agreed declines the applicant may answer.
    "5-declined": (make_situation(DECLINED), [LOQ, NON_CONFORM]),
    "5-with-approved": (make_situation(APPROVED, DECLINED), [LOQ, NON_CONFORM]),
    "5-with-undecided": (make_situation(UNDECIDED, DECLINED), [LOQ, NON_CONFORM]),
    "5-agreed": (consolidation(AGREED_DECLINE), [LOQ, NON_CONFORM]),
    "5-agreed-mixed": (consolidation(AGREED_APPROVAL, AGREED_DECLINE), [LOQ, NON_CONFORM]),
    "5-level-3": (consolidation(AGREED_DECLINE, level=3, levels=3), [LOQ, NON_CONFORM]),
    # 6. Everything approved, or every approval agreed with.
    "6-approved": (make_situation(APPROVED), [CONFORM]),
    "6-all-approved": (make_situation(APPROVED, APPROVED, APPROVED), [CONFORM]),
    "6-all-agreed": (consolidation(AGREED_APPROVAL, AGREED_APPROVAL), [CONFORM]),
    "6-level-3": (consolidation(AGREED_APPROVAL, level=3, levels=3), [CONFORM]),
}

NOT_SUBMITTABLE: dict[str, Situation] = {
    "level-1-empty": make_situation(),
    "level-1-undecided": make_situation(UNDECIDED),
    "level-1-approved-and-undecided": make_situation(APPROVED, UNDECIDED),
    "multi-level-empty": first_of_two(),
    "multi-level-undecided": first_of_two(APPROVED, UNDECIDED),
    "final-undecided": final(APPROVED, UNDECIDED),
    "consolidation-empty": consolidation(),
    "consolidation-undecided": consolidation(PENDING_APPROVAL),
    "consolidation-one-left": consolidation(AGREED_APPROVAL, PENDING_APPROVAL),
    "disagreed-one-left": consolidation(DISAGREED_APPROVAL, PENDING_APPROVAL),
    "agreed-outright-one-left": consolidation(AGREED_OUTRIGHT, PENDING_DECLINE),
    "final-one-left": consolidation(AGREED_APPROVAL, PENDING_APPROVAL, final_decision=True),
}
SUBMISSIONS = [
    pytest.param(situation, expected, id=name)
    for name, (situation, expected) in DECISION_TABLE.items()
]
DECIDING = [
    pytest.param(situation, expected, id=name)
    for name, (situation, expected) in DECISION_TABLE.items()
    if expected
]
HANDED_ON = [
    pytest.param(situation, id=name)
    for name, (situation, expected) in DECISION_TABLE.items()
    if not expected
]
UNSUBMITTABLE = [pytest.param(situation, id=name) for name, situation in NOT_SUBMITTABLE.items()]
ALLOWED_CHOICES = [
    pytest.param(situation, decision, id=f"{name}-{decision}")
    for name, (situation, expected) in DECISION_TABLE.items()
    for decision in expected
]
REFUSED_CHOICES = [
    pytest.param(situation, decision, expected, id=f"{name}-{decision}")
    for name, (situation, expected) in DECISION_TABLE.items()
    for decision in ReviewDecision
    if decision not in expected
]


@pytest.mark.parametrize(("situation", "expected"), SUBMISSIONS)
def test_allowed_decisions_follow_the_spec_table(
    situation: Situation, expected: list[ReviewDecision]
) -> None:
    assert allowed_decisions(situation) == expected


@pytest.mark.parametrize("situation", UNSUBMITTABLE)
def test_nothing_is_allowed_before_the_review_can_be_submitted(situation: Situation) -> None:
    assert can_submit(situation) is False
    assert allowed_decisions(situation) == []


@pytest.mark.parametrize(
    ("verdict", "agreed"),
    [
        (UNDECIDED, False),
        (APPROVED, False),
        (DECLINED, True),
        (DECLINED_OUTRIGHT, True),
        (PENDING_DECLINE, False),
        (AGREED_APPROVAL, False),
        (AGREED_DECLINE, True),
        (AGREED_OUTRIGHT, True),
        (DISAGREED_APPROVAL, False),
        (DISAGREED_DECLINE, False),
        (DISAGREED_OUTRIGHT, False),
    ],
)
def test_only_a_decline_or_an_agreement_with_one_is_an_agreed_decline(
    verdict: Verdict, agreed: bool
) -> None:
    assert verdict.is_agreed_decline is agreed


def decisions_by_spec(situation: Situation) -> list[ReviewDecision]:
    """SPEC §1 read afresh, to sweep every small situation against the code."""
    verdicts = situation.verdicts
    decided = bool(verdicts) and all(v.decision is not None for v in verdicts)
    if situation.level == 1:
        agreed = [v for v in verdicts if v.decision == DECLINE]
        submittable = bool(agreed) or decided
    else:
        agreed = [v for v in verdicts if v.decision == AGREE and v.lower_decision == DECLINE]
        submittable = decided
    if not submittable or (situation.level == 1 and situation.levels > 1):
        return []
    if situation.level > 1 and any(v.decision == DISAGREE for v in verdicts):
        return [CHANGES]
    if situation.level < situation.levels:  # "only the last level decides for the stage"
        return []
    if situation.final_decision:
        return [CONFORM, NON_CONFORM]
    if any(v.reason_kind == OUTRIGHT for v in agreed):
        return [NON_CONFORM]
    if any(v.visible for v in agreed):
        return [LOQ, NON_CONFORM]
    return [NON_CONFORM] if agreed else [CONFORM]  # hidden declines: nothing to ask


@pytest.mark.parametrize("final_decision", [False, True])
@pytest.mark.parametrize(("level", "levels"), [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)])
def test_every_small_situation_matches_the_spec(
    level: int, levels: int, final_decision: bool
) -> None:
    pool = LEVEL_ONE_POOL if level == 1 else CONSOLIDATION_POOL
    for size in range(4):
        for verdicts in product(pool, repeat=size):
            situation = make_situation(
                *verdicts, level=level, levels=levels, final_decision=final_decision
            )
            allowed = allowed_decisions(situation)
            assert allowed == decisions_by_spec(situation), situation
            assert can_submit(situation) or allowed == [], situation


@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize(
    ("verdicts", "submittable"),
    [
        pytest.param((APPROVED,), True, id="approved"),
        pytest.param((APPROVED, APPROVED, APPROVED), True, id="all-approved"),
        pytest.param((DECLINED,), True, id="declined"),
        pytest.param((DECLINED_OUTRIGHT, UNDECIDED, UNDECIDED), True, id="declined-rest-open"),
        pytest.param((UNDECIDED, APPROVED, DECLINED), True, id="declined-after-undecided"),
        pytest.param((APPROVED, UNDECIDED), False, id="approved-one-open"),
        pytest.param((UNDECIDED,), False, id="undecided"),
        pytest.param((), False, id="empty"),
    ],
)
def test_level_one_submits_when_all_approved_or_one_declined(
    verdicts: tuple[Verdict, ...], submittable: bool, levels: int
) -> None:
    assert can_submit(make_situation(*verdicts, levels=levels)) is submittable


@pytest.mark.parametrize(("level", "levels"), [(2, 2), (2, 3), (3, 3)])
@pytest.mark.parametrize(
    ("verdicts", "submittable"),
    [
        pytest.param((AGREED_APPROVAL,), True, id="agreed"),
        pytest.param((DISAGREED_APPROVAL,), True, id="disagreed"),
        pytest.param((AGREED_APPROVAL, DISAGREED_DECLINE, AGREED_OUTRIGHT), True, id="all-decided"),
        pytest.param((AGREED_APPROVAL, PENDING_APPROVAL), False, id="one-open"),
        pytest.param((DISAGREED_APPROVAL, PENDING_DECLINE), False, id="disagreed-one-open"),
        pytest.param((PENDING_DECLINE,), False, id="undecided"),
        pytest.param((), False, id="empty"),
    ],
)
def test_consolidation_submits_only_when_every_target_is_decided(
    verdicts: tuple[Verdict, ...], submittable: bool, level: int, levels: int
) -> None:
    situation = make_situation(*verdicts, level=level, levels=levels)
    assert can_submit(situation) is submittable


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        pytest.param((), [], id="empty"),
        pytest.param((APPROVED, DECLINED), [], id="all-decided"),
        pytest.param((APPROVED, UNDECIDED, DECLINED, UNDECIDED), [1, 3], id="level-1"),
        pytest.param((UNDECIDED, UNDECIDED, UNDECIDED), [0, 1, 2], id="none-decided"),
        pytest.param((AGREED_APPROVAL, PENDING_DECLINE, DISAGREED_APPROVAL), [1], id="level-2"),
    ],
)
def test_missing_lists_the_undecided_targets_in_order(
    verdicts: tuple[Verdict, ...], expected: list[int]
) -> None:
    assert missing(verdicts) == expected


@pytest.mark.parametrize("decision", [None, *ReviewDecision])
@pytest.mark.parametrize("situation", UNSUBMITTABLE)
def test_submitting_too_early_is_refused_naming_the_undecided_targets(
    situation: Situation, decision: ReviewDecision | None
) -> None:
    targets = [f"s1.q{index}" for index in missing(situation.verdicts)]
    with pytest.raises(Conflict) as refused:
        ensure_submittable(situation, decision, targets)
    assert refused.value.allowed == []
    assert all(target in refused.value.detail for target in targets)


def test_submitting_an_empty_review_says_there_is_nothing_to_decide() -> None:
    with pytest.raises(Conflict, match="nothing to decide") as refused:
        ensure_submittable(make_situation(), None, [])
    assert refused.value.allowed == []


@pytest.mark.parametrize(("situation", "expected"), DECIDING)
def test_a_decision_is_required_where_one_is_allowed(
    situation: Situation, expected: list[ReviewDecision]
) -> None:
    with pytest.raises(Conflict) as refused:
        ensure_submittable(situation, None, [])
    assert refused.value.allowed == [decision.value for decision in expected]
    assert all(decision.value in refused.value.detail for decision in expected)


@pytest.mark.parametrize(("situation", "decision", "expected"), REFUSED_CHOICES)
def test_a_decision_not_allowed_is_refused_naming_the_allowed_ones(
    situation: Situation, decision: ReviewDecision, expected: list[ReviewDecision]
) -> None:
    with pytest.raises(Conflict) as refused:
        ensure_submittable(situation, decision, [])
    assert refused.value.allowed == [allowed.value for allowed in expected]
    assert decision.value in refused.value.detail
    assert all(allowed.value in refused.value.detail for allowed in expected)


def test_conform_after_a_decline_is_refused_offering_loq_or_non_conform() -> None:
    with pytest.raises(Conflict, match="CONFORM is not allowed") as refused:
        ensure_submittable(make_situation(APPROVED, DECLINED), CONFORM, [])
    assert refused.value.allowed == ["LIST_OF_QUESTIONS", "NON_CONFORM"]


@pytest.mark.parametrize(("situation", "decision"), ALLOWED_CHOICES)
def test_every_allowed_decision_is_accepted(situation: Situation, decision: ReviewDecision) -> None:
    ensure_submittable(situation, decision, [])


@pytest.mark.parametrize("situation", HANDED_ON)
def test_level_one_of_a_multi_level_stage_submits_without_a_decision(
    situation: Situation,
) -> None:
    ensure_submittable(situation, None, [])


SECTION_REASONS = {"fr-info": FURTHER, "fr-out": OUTRIGHT}


def refused_fields(refusal: Invalid) -> list[str]:
    """The fields a 422 points at."""
    return [error["field"] for error in refusal.errors or []]


@pytest.mark.parametrize(
    ("level", "decision", "failure_reason"),
    [
        (1, APPROVE, None),
        (1, DECLINE, "fr-info"),
        (1, DECLINE, "fr-out"),
        (2, AGREE, None),
        (2, DISAGREE, None),
        (3, AGREE, None),
        (3, DISAGREE, None),
    ],
)
def test_each_level_accepts_its_own_decisions(
    level: int, decision: ResponseDecision, failure_reason: str | None
) -> None:
    check_response_decision(
        level=level,
        decision=decision,
        failure_reason=failure_reason,
        section_reasons=SECTION_REASONS,
    )


@pytest.mark.parametrize(
    ("level", "decision"),
    [(1, AGREE), (1, DISAGREE), (2, APPROVE), (2, DECLINE), (3, APPROVE), (3, DECLINE)],
)
def test_a_decision_of_the_other_level_is_invalid(level: int, decision: ResponseDecision) -> None:
    reason = "fr-info" if decision == DECLINE else None
    with pytest.raises(Invalid) as refused:
        check_response_decision(
            level=level, decision=decision, failure_reason=reason, section_reasons=SECTION_REASONS
        )
    assert refused_fields(refused.value) == ["decision"]


@pytest.mark.parametrize("failure_reason", [None, ""])
def test_a_decline_must_name_a_failure_reason(failure_reason: str | None) -> None:
    with pytest.raises(Invalid) as refused:
        check_response_decision(
            level=1,
            decision=DECLINE,
            failure_reason=failure_reason,
            section_reasons=SECTION_REASONS,
        )
    assert refused_fields(refused.value) == ["failure_reason"]


def test_a_decline_citing_another_sections_reason_names_the_valid_ones() -> None:
    with pytest.raises(Invalid) as refused:
        check_response_decision(
            level=1, decision=DECLINE, failure_reason="fr-x", section_reasons=SECTION_REASONS
        )
    assert refused_fields(refused.value) == ["failure_reason"]
    assert all(name in refused.value.detail for name in ("fr-x", "fr-info", "fr-out"))


def test_a_decline_is_invalid_in_a_section_without_failure_reasons() -> None:
    with pytest.raises(Invalid) as refused:
        check_response_decision(
            level=1, decision=DECLINE, failure_reason="fr-info", section_reasons={}
        )
    assert refused_fields(refused.value) == ["failure_reason"]


@pytest.mark.parametrize(
    ("level", "decision"), [(1, APPROVE), (2, AGREE), (2, DISAGREE), (3, AGREE)]
)
def test_only_a_decline_names_a_failure_reason(level: int, decision: ResponseDecision) -> None:
    with pytest.raises(Invalid) as refused:
        check_response_decision(
            level=level,
            decision=decision,
            failure_reason="fr-info",
            section_reasons=SECTION_REASONS,
        )
    assert refused_fields(refused.value) == ["failure_reason"]


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        pytest.param(
            (Verdict(DECLINE, FailureReasonKind.FURTHER_INFORMATION, visible=False),),
            [NON_CONFORM],
            id="only-hidden-declines",
        ),
        pytest.param(
            (
                Verdict(DECLINE, FailureReasonKind.FURTHER_INFORMATION, visible=False),
                Verdict(DECLINE, FailureReasonKind.FURTHER_INFORMATION),
            ),
            [LOQ, NON_CONFORM],
            id="one-visible-decline",
        ),
    ],
)
def test_a_list_of_questions_needs_a_decline_the_applicant_can_see(
    verdicts: tuple[Verdict, ...], expected: list[ReviewDecision]
) -> None:
    assert allowed_decisions(make_situation(*verdicts)) == expected
