"""Review rules: which decisions a review may carry, when it can be submitted, who holds what.

Pure functions over the review's situation; the workflow's validators, the
activities (under row locks) and the API all call these, so each rule is
written once.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.errors import Conflict, Invalid, field_error
from domain.template import FailureReasonKind


class ReviewStatus(StrEnum):
    """Where a review stands."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    DISCONTINUED = "DISCONTINUED"


class AssignmentStatus(StrEnum):
    """Whether an assignment row has been taken."""

    AVAILABLE = "AVAILABLE"
    ASSIGNED = "ASSIGNED"


class ResponseDecision(StrEnum):
    """A reviewer's decision on one target."""

    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    AGREE = "AGREE"
    DISAGREE = "DISAGREE"


class ReviewDecision(StrEnum):
    """The decision a submitted review carries for the stage."""

    CONFORM = "CONFORM"
    NON_CONFORM = "NON_CONFORM"
    LIST_OF_QUESTIONS = "LIST_OF_QUESTIONS"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"


LEVEL_ONE_DECISIONS = frozenset({ResponseDecision.APPROVE, ResponseDecision.DECLINE})
CONSOLIDATION_DECISIONS = frozenset({ResponseDecision.AGREE, ResponseDecision.DISAGREE})
RESTARTABLE = frozenset({ReviewStatus.PENDING, ReviewStatus.CHANGES_REQUESTED})


@dataclass(frozen=True)
class Verdict:
    """One target's decision in a review.

    At level 1 `decision` is APPROVE/DECLINE and `reason_kind` the kind of the
    cited failure reason. Above level 1 `decision` is AGREE/DISAGREE, and
    `lower_decision` / `reason_kind` describe the lower-level response judged.
    `visible` is the decline's recommended visibility to the applicant.
    """

    decision: ResponseDecision | None
    reason_kind: FailureReasonKind | None = None
    lower_decision: ResponseDecision | None = None
    visible: bool = True

    @property
    def is_agreed_decline(self) -> bool:
        """A decline the deciding level stands behind."""
        if self.decision == ResponseDecision.DECLINE:
            return True
        return (
            self.decision == ResponseDecision.AGREE
            and self.lower_decision == ResponseDecision.DECLINE
        )


@dataclass(frozen=True)
class Situation:
    """What `allowed_decisions` needs to know about a review.

    `stage_sections` are the sections the stage reviews; `lower_covered` the sections
    that submitted reviews of the level below hold (what a consolidation can judge).
    """

    level: int
    levels: int
    final_decision: bool
    verdicts: tuple[Verdict, ...]
    stage_sections: tuple[str, ...]
    lower_covered: frozenset[str]

    @property
    def is_consolidation(self) -> bool:
        """A review of reviews (level above 1)."""
        return self.level > 1


def missing(verdicts: Sequence[Verdict]) -> list[int]:
    """Indexes of the targets still undecided."""
    return [i for i, verdict in enumerate(verdicts) if verdict.decision is None]


def waiting_sections(situation: Situation) -> list[str]:
    """Sections a consolidation still waits for: no submitted lower-level review holds them."""
    if not situation.is_consolidation:
        return []
    return [s for s in situation.stage_sections if s not in situation.lower_covered]


def can_submit(situation: Situation) -> bool:
    """Level 1: all approved, or at least one declined. Above: the level below has submitted
    every section, and every target is decided."""
    verdicts = situation.verdicts
    if situation.is_consolidation:
        return not waiting_sections(situation) and bool(verdicts) and not missing(verdicts)
    if any(v.decision == ResponseDecision.DECLINE for v in verdicts):
        return True
    return bool(verdicts) and all(v.decision == ResponseDecision.APPROVE for v in verdicts)


def allowed_decisions(situation: Situation) -> list[ReviewDecision]:
    """The decisions a submission may carry (SPEC §1's table, first match wins)."""
    if not can_submit(situation):
        return []
    decided = [v for v in situation.verdicts if v.decision is not None]
    if situation.level == 1 and situation.levels > 1:
        return []
    if situation.is_consolidation and any(v.decision == ResponseDecision.DISAGREE for v in decided):
        return [ReviewDecision.CHANGES_REQUESTED]
    if situation.level < situation.levels:
        return []  # only the last level decides for the stage; a middle level submits upward
    if situation.final_decision:
        return [ReviewDecision.CONFORM, ReviewDecision.NON_CONFORM]
    agreed_declines = [v for v in decided if v.is_agreed_decline]
    if any(v.reason_kind == FailureReasonKind.DECLINE for v in agreed_declines):
        return [ReviewDecision.NON_CONFORM]
    if any(v.visible for v in agreed_declines):
        return [ReviewDecision.LIST_OF_QUESTIONS, ReviewDecision.NON_CONFORM]
    if agreed_declines:  # a list of questions would ask the applicant nothing
        return [ReviewDecision.NON_CONFORM]
    return [ReviewDecision.CONFORM]


def ensure_submittable(
    situation: Situation, decision: ReviewDecision | None, missing_targets: Sequence[str]
) -> None:
    """Refuse (409) a submission that cannot be made or carries a decision not allowed."""
    if waiting := waiting_sections(situation):
        raise Conflict(
            f"level {situation.level - 1} has not submitted every section yet; "
            f"missing: {', '.join(waiting)}",
            allowed=[],
        )
    if not can_submit(situation):
        raise Conflict(
            "the review cannot be submitted yet: "
            + (
                f"undecided: {', '.join(missing_targets)}"
                if missing_targets
                else "it has nothing to decide"
            ),
            allowed=[],
        )
    allowed = allowed_decisions(situation)
    if decision is None and allowed:
        raise Conflict(
            f"choose a decision; allowed: {', '.join(allowed)}", allowed=[d.value for d in allowed]
        )
    if decision is not None and decision not in allowed:
        names = ", ".join(allowed) or "none (this level submits to the next)"
        raise Conflict(
            f"{decision.value} is not allowed here; allowed: {names}",
            allowed=[d.value for d in allowed],
        )


def ensure_disagreements_changed(live: Mapping[str, str], disagreed: Iterable[str]) -> None:
    """After CHANGES_REQUESTED, every live response (id → element) the level above disagreed
    with must have been changed (a change makes a new response)."""
    unchanged = sorted(live[target] for target in disagreed if target in live)
    if unchanged:
        raise Conflict(
            f"change every response the level above disagreed with; unchanged: "
            f"{', '.join(unchanged)}",
            allowed=[],
        )


def check_response_decision(
    *,
    level: int,
    decision: ResponseDecision,
    failure_reason: str | None,
    section_reasons: Mapping[str, FailureReasonKind],
) -> None:
    """Refuse (422) a decision of the wrong family or a decline without a valid reason."""
    expected = LEVEL_ONE_DECISIONS if level == 1 else CONSOLIDATION_DECISIONS
    if decision not in expected:
        raise Invalid(
            f"{decision.value} is not a level-{level} decision; use {', '.join(sorted(expected))}",
            errors=[field_error("decision", "wrong decision for this level")],
        )
    if decision == ResponseDecision.DECLINE:
        if not failure_reason:
            raise Invalid(
                "a decline must name a failure reason",
                errors=[field_error("failure_reason", "required when declining")],
            )
        if failure_reason not in section_reasons:
            raise Invalid(
                f"{failure_reason!r} is not a failure reason of this section; "
                f"choose one of: {', '.join(sorted(section_reasons)) or 'none'}",
                errors=[field_error("failure_reason", "not a reason of this section")],
            )
    elif failure_reason:
        raise Invalid(
            "only a decline names a failure reason",
            errors=[field_error("failure_reason", "only with DECLINE")],
        )


class StageRules(Protocol):
    """What the assignment rules read of a stage (a template Stage or a payload)."""

    @property
    def levels(self) -> int: ...

    @property
    def final_decision(self) -> bool: ...

    @property
    def self_assignable(self) -> bool: ...


def takes_all_sections(stage: StageRules, level: int) -> bool:
    """A single-level stage and every consolidation level go to one reviewer whole."""
    return stage.levels == 1 or level > 1


def is_self_assignable(stage: StageRules) -> bool:
    """Final-decision assignments are always self-assignable."""
    return stage.self_assignable or stage.final_decision


def sections_to_claim(
    *,
    requested: Iterable[str] | None,
    allowed: Iterable[str] | None,
    all_sections: Sequence[str],
    held_by_others: Iterable[str],
    whole: bool,
) -> list[str]:
    """The sections a claim takes, or a 409 naming why it cannot."""
    allowed_set = set(all_sections if allowed is None else allowed)
    taken = set(held_by_others)
    available = [s for s in all_sections if s in allowed_set and s not in taken]
    wanted = available if requested is None else list(dict.fromkeys(requested))
    unknown = [s for s in wanted if s not in all_sections]
    if unknown:
        raise Invalid(
            f"unknown sections: {', '.join(unknown)}",
            errors=[field_error("sections", "unknown section")],
        )
    not_allowed = [s for s in wanted if s not in allowed_set]
    if not_allowed:
        raise Conflict(f"sections not allowed for this reviewer: {', '.join(not_allowed)}")
    held = [s for s in wanted if s in taken]
    if held:
        raise Conflict(f"sections held by another reviewer at this level: {', '.join(held)}")
    if not wanted:
        raise Conflict("nothing left to take: every allowed section is held")
    if whole and set(wanted) != set(all_sections):
        raise Conflict("this level is reviewed whole: one reviewer takes every section")
    return wanted
