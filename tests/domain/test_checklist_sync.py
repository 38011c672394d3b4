"""Check-list sync rules: what a sync changes, and who may run or read one."""

import pytest

from domain.access import Principal, Role
from domain.application import AssessmentStatus
from domain.checklist_sync import (
    ChangeKind,
    ChangeRowKind,
    Checklist,
    CurrentSection,
    SectionChange,
    can_read_syncs,
    can_start_sync,
    is_eligible,
    plan_sync,
)
from domain.template import TemplateDefinition

STAGE = {"code": "assessment", "name": "Assessment", "levels": 1}


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": r, "label": r, "kind": "decline"} for r in codes]


def _template(*sections: tuple[str, list[str], list[str], bool]) -> TemplateDefinition:
    return TemplateDefinition.model_validate(
        {
            "name": "T",
            "stages": [STAGE],
            "sections": [
                {
                    "code": code,
                    "title": code,
                    "preliminary": preliminary,
                    "elements": [{"code": f"{code}_q", "title": "Q", "type": "text"}],
                    "checks": checks,
                    "failure_reasons": [
                        {"code": r, "label": r, "kind": "decline"} for r in reasons
                    ],
                }
                for code, checks, reasons, preliminary in sections
            ],
        }
    )


def _current(
    code: str,
    checks: list[str],
    reasons: list[str],
    *,
    preliminary: bool = False,
    retired: bool = False,
    selected: list[str] | None = None,
) -> CurrentSection:
    return CurrentSection(
        code=code,
        preliminary=preliminary,
        retired=retired,
        checklist=Checklist(
            checks=checks,
            failure_reasons=_reasons(reasons),
        ),
        selected_failure_reasons=selected or [],
    )


def _kinds(changes: list[SectionChange]) -> dict[str, ChangeKind]:
    return {c.section: c.kind for c in changes}


def test_a_current_assessment_needs_no_change() -> None:
    template = _template(("a", ["c1"], ["r1"], False))
    assert plan_sync([_current("a", ["c1"], ["r1"])], template) == []


@pytest.mark.parametrize(
    ("checks", "reasons"),
    [(["c1", "c2"], ["r1"]), (["c1"], ["r2"]), ([], ["r1"]), (["c2", "c1"], ["r1"])],
)
def test_any_difference_replaces_the_section_whole(checks: list[str], reasons: list[str]) -> None:
    changes = plan_sync([_current("a", ["c1"], ["r1"])], _template(("a", checks, reasons, False)))
    assert _kinds(changes) == {"a": ChangeKind.REPLACED}
    assert changes[0].after == Checklist(
        checks=checks,
        failure_reasons=[{"code": r, "label": r, "kind": "decline"} for r in reasons],
    )
    assert changes[0].before == _current("a", ["c1"], ["r1"]).checklist


def test_new_sections_are_added_and_dropped_ones_retired() -> None:
    current = [_current("a", ["c1"], []), _current("old", ["x"], [])]
    changes = plan_sync(current, _template(("a", ["c1"], [], False), ("new", ["n"], [], False)))
    assert _kinds(changes) == {"new": ChangeKind.ADDED, "old": ChangeKind.RETIRED}
    added = next(c for c in changes if c.kind == ChangeKind.ADDED)
    assert (added.before, added.position, added.title) == (None, 1, "new")


def test_a_retired_section_stays_retired_and_comes_back_when_restored() -> None:
    retired = [_current("a", ["c1"], []), _current("old", ["x"], [], retired=True)]
    assert plan_sync(retired, _template(("a", ["c1"], [], False))) == []
    back = plan_sync(retired, _template(("a", ["c1"], [], False), ("old", ["x"], [], False)))
    assert _kinds(back) == {"old": ChangeKind.RESTORED}


@pytest.mark.parametrize("on_assessment", [True, False])
@pytest.mark.parametrize("in_template", [True, False])
def test_preliminary_sections_are_never_touched(on_assessment: bool, in_template: bool) -> None:
    current = [_current("p", ["old"], [], preliminary=on_assessment)]
    template = _template(("p", ["new"], [], in_template), ("a", [], [], False))
    changes = plan_sync(current, template)
    if on_assessment or in_template:
        assert _kinds(changes) == {"a": ChangeKind.ADDED}
    else:
        assert _kinds(changes) == {"a": ChangeKind.ADDED, "p": ChangeKind.REPLACED}


def test_a_selected_reason_is_never_orphaned() -> None:
    current = [_current("a", ["c"], ["keep", "gone"], selected=["gone"])]
    changes = plan_sync(current, _template(("a", ["c"], ["keep"], False)))
    after = changes[0].after
    assert after is not None
    assert [(r["code"], r.get("retired")) for r in after.failure_reasons] == [
        ("keep", None),
        ("gone", True),
    ]
    synced = [_current("a", ["c"], [], selected=["gone"]).model_copy(update={"checklist": after})]
    assert plan_sync(synced, _template(("a", ["c"], ["keep"], False))) == []


@pytest.mark.parametrize("status", list(AssessmentStatus))
def test_only_not_started_and_pre_assessment_are_eligible(status: AssessmentStatus) -> None:
    expected = status in {AssessmentStatus.NOT_STARTED, AssessmentStatus.PRE_ASSESSMENT}
    assert is_eligible(status.value) is expected


@pytest.mark.parametrize("role", list(Role))
def test_admins_start_syncs_and_admins_and_assessors_read_them(role: Role) -> None:
    who = Principal(sub="u", roles=frozenset({role}))
    assert can_start_sync(who) is (role == Role.ADMIN)
    assert can_read_syncs(who) is (role in {Role.ADMIN, Role.ASSESSOR})


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_every_change_kind_can_be_stored_as_a_change_row(kind: ChangeKind) -> None:
    assert ChangeRowKind(kind.value).value == kind.value


def test_a_failure_row_is_no_change_kind() -> None:
    assert ChangeRowKind.FAILED.value not in {kind.value for kind in ChangeKind}
