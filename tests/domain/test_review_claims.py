"""Who may take review work, and which sections a claim takes."""

from collections.abc import Iterable

import pytest

from domain.errors import Conflict, Invalid
from domain.review import is_self_assignable, sections_to_claim, takes_all_sections
from domain.template import Stage

SECTIONS = ["s1", "s2", "s3"]


def make_stage(
    *, levels: int = 1, final_decision: bool = False, self_assignable: bool = True
) -> Stage:
    """A stage reviewed in `levels` levels."""
    return Stage(
        code="main",
        name="Main review",
        levels=levels,
        final_decision=final_decision,
        self_assignable=self_assignable,
    )


def claim(
    requested: Iterable[str] | None = None,
    *,
    allowed: Iterable[str] | None = None,
    held_by_others: Iterable[str] = (),
    whole: bool = False,
) -> list[str]:
    """Claim among `SECTIONS`."""
    return sections_to_claim(
        requested=requested,
        allowed=allowed,
        all_sections=SECTIONS,
        held_by_others=held_by_others,
        whole=whole,
    )


@pytest.mark.parametrize("final_decision", [False, True])
@pytest.mark.parametrize(
    ("levels", "level", "whole"),
    [(1, 1, True), (2, 1, False), (2, 2, True), (3, 1, False), (3, 2, True), (3, 3, True)],
)
def test_single_level_stages_and_consolidations_go_to_one_reviewer_whole(
    levels: int, level: int, whole: bool, final_decision: bool
) -> None:
    stage = make_stage(levels=levels, final_decision=final_decision)
    assert takes_all_sections(stage, level) is whole


@pytest.mark.parametrize(
    ("self_assignable", "final_decision", "assignable"),
    [(True, False, True), (False, False, False), (True, True, True), (False, True, True)],
)
def test_final_decision_stages_are_always_self_assignable(
    self_assignable: bool, final_decision: bool, assignable: bool
) -> None:
    stage = make_stage(final_decision=final_decision, self_assignable=self_assignable)
    assert is_self_assignable(stage) is assignable


def test_stages_are_self_assignable_by_default() -> None:
    assert is_self_assignable(Stage(code="main", name="Main review", levels=1)) is True


@pytest.mark.parametrize(
    ("allowed", "held_by_others", "expected"),
    [
        pytest.param(None, [], ["s1", "s2", "s3"], id="everything"),
        pytest.param(["s3", "s1"], [], ["s1", "s3"], id="allowed-in-template-order"),
        pytest.param(None, ["s2"], ["s1", "s3"], id="skips-held"),
        pytest.param(["s1", "s2"], ["s1"], ["s2"], id="allowed-and-not-held"),
        pytest.param({"s2", "s9"}, (), ["s2"], id="ignores-unknown-allowed"),
    ],
)
def test_claiming_without_a_list_takes_every_available_allowed_section(
    allowed: Iterable[str] | None, held_by_others: Iterable[str], expected: list[str]
) -> None:
    assert claim(allowed=allowed, held_by_others=held_by_others) == expected


@pytest.mark.parametrize(
    ("requested", "allowed", "held_by_others", "expected"),
    [
        pytest.param(["s2"], None, [], ["s2"], id="one"),
        pytest.param(["s3", "s1"], None, [], ["s3", "s1"], id="in-requested-order"),
        pytest.param(["s2", "s2", "s1", "s2"], None, [], ["s2", "s1"], id="duplicates-collapsed"),
        pytest.param(["s1"], ["s1", "s3"], ["s2"], ["s1"], id="within-allowed"),
        pytest.param(iter(["s3"]), iter(["s3"]), iter(["s1"]), ["s3"], id="any-iterable"),
    ],
)
def test_claiming_a_list_takes_exactly_those_sections(
    requested: Iterable[str],
    allowed: Iterable[str] | None,
    held_by_others: Iterable[str],
    expected: list[str],
) -> None:
    assert claim(requested, allowed=allowed, held_by_others=held_by_others) == expected


@pytest.mark.parametrize(
    ("requested", "allowed"),
    [(["s9"], None), (["s1", "s9", "s8"], None), (["s9"], ["s9"]), (["s9", "s2"], ["s1"])],
)
def test_an_unknown_section_is_invalid(requested: list[str], allowed: list[str] | None) -> None:
    with pytest.raises(Invalid, match="s9") as refused:
        claim(requested, allowed=allowed)
    assert [error["field"] for error in refused.value.errors or []] == ["sections"]


@pytest.mark.parametrize(
    ("requested", "allowed", "named"),
    [
        (["s2"], ["s1"], "s2"),
        (["s1", "s3"], ["s1"], "s3"),
        (["s1"], [], "s1"),
    ],
)
def test_a_section_outside_allowed_sections_is_refused(
    requested: list[str], allowed: list[str], named: str
) -> None:
    with pytest.raises(Conflict, match="not allowed") as refused:
        claim(requested, allowed=allowed)
    assert named in refused.value.detail


@pytest.mark.parametrize(
    ("requested", "held_by_others", "named"),
    [(["s2"], ["s2"], "s2"), (["s1", "s3"], ["s3", "s2"], "s3")],
)
def test_a_section_held_by_another_reviewer_is_refused(
    requested: list[str], held_by_others: list[str], named: str
) -> None:
    with pytest.raises(Conflict, match="held by another") as refused:
        claim(requested, held_by_others=held_by_others)
    assert named in refused.value.detail
    assert "s1" not in refused.value.detail


@pytest.mark.parametrize(
    ("requested", "allowed", "held_by_others"),
    [
        pytest.param(None, None, SECTIONS, id="all-held"),
        pytest.param(None, ["s2"], ["s2"], id="allowed-held"),
        pytest.param(None, [], [], id="nothing-allowed"),
        pytest.param([], None, [], id="empty-request"),
    ],
)
def test_a_claim_that_finds_nothing_left_is_refused(
    requested: list[str] | None, allowed: list[str] | None, held_by_others: list[str]
) -> None:
    with pytest.raises(Conflict, match="nothing left"):
        claim(requested, allowed=allowed, held_by_others=held_by_others)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(None, ["s1", "s2", "s3"]), (["s3", "s1", "s2"], ["s3", "s1", "s2"])],
)
def test_a_whole_claim_takes_every_section(
    requested: list[str] | None, expected: list[str]
) -> None:
    assert claim(requested, allowed=SECTIONS, whole=True) == expected


@pytest.mark.parametrize(
    ("requested", "allowed", "held_by_others"),
    [
        pytest.param(["s1"], None, [], id="part-requested"),
        pytest.param(None, ["s1", "s2"], [], id="allowed-limits"),
        pytest.param(["s1", "s2"], ["s1", "s2"], [], id="allowed-limits-requested"),
        pytest.param(None, None, ["s3"], id="one-held"),
    ],
)
def test_a_whole_level_refuses_a_partial_claim(
    requested: list[str] | None, allowed: list[str] | None, held_by_others: list[str]
) -> None:
    with pytest.raises(Conflict):
        claim(requested, allowed=allowed, held_by_others=held_by_others, whole=True)
