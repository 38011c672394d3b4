"""Template definitions: what a published template must satisfy, and element lookups."""

import pytest
from pydantic import ValidationError

from domain.template import (
    DEFAULT_LOQ_DEADLINE_DAYS,
    DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS,
    ElementType,
    TemplateDefinition,
)
from tests.domain.builders import (
    element_data,
    failure_reason_data,
    make_template,
    section_data,
    stage_data,
    template_data,
)


def _refused(data: dict[str, object], match: str = "") -> None:
    with pytest.raises(ValidationError, match=match):
        TemplateDefinition.model_validate(data)


def test_minimal_template_is_accepted_with_default_loq_deadlines() -> None:
    template = make_template()

    assert [s.code for s in template.sections] == ["s1"]
    assert [s.code for s in template.stages] == ["main"]
    assert template.loq_deadline_days == DEFAULT_LOQ_DEADLINE_DAYS == 42
    assert template.loq_followup_deadline_days == DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS == 21


def test_stage_defaults_make_a_self_assignable_ordinary_stage() -> None:
    stage = make_template(stages=[{"code": "main", "name": "Main", "levels": 2}]).stages[0]

    assert (stage.self_assignable, stage.pre_assessment, stage.final_decision) == (
        True,
        False,
        False,
    )


def test_repeated_section_codes_are_refused_naming_the_code() -> None:
    _refused(
        template_data(sections=[section_data("dup"), section_data("dup")]),
        match="section codes must be unique; repeated: dup",
    )


@pytest.mark.parametrize(
    "sections",
    [
        pytest.param(
            [
                section_data("a", elements=[element_data("q")]),
                section_data("b", elements=[element_data("q")]),
            ],
            id="across-sections",
        ),
        pytest.param(
            [section_data("a", elements=[element_data("q"), element_data("q")])],
            id="within-a-section",
        ),
    ],
)
def test_repeated_element_codes_anywhere_in_the_template_are_refused(
    sections: list[dict[str, object]],
) -> None:
    _refused(template_data(sections=sections), match="element codes must be unique; repeated: q")


def test_repeated_stage_codes_are_refused() -> None:
    _refused(
        template_data(stages=[stage_data("st"), stage_data("other"), stage_data("st")]),
        match="stage codes must be unique; repeated: st",
    )


def test_every_repeated_code_is_named_in_sorted_order() -> None:
    stages = [stage_data(code) for code in ("z", "a", "z", "a", "m")]
    _refused(template_data(stages=stages), match=r"repeated: a, z \[")


def test_a_section_code_may_equal_an_element_or_stage_code() -> None:
    template = make_template(
        sections=[section_data("x", elements=[element_data("x")])], stages=[stage_data("x")]
    )

    assert template.element("x") is not None


def test_repeated_failure_reason_codes_within_a_section_are_refused() -> None:
    reasons = [failure_reason_data("fr"), failure_reason_data("fr")]
    _refused(
        template_data(sections=[section_data("s1", failure_reasons=reasons)]),
        match="failure reason codes must be unique; repeated: fr",
    )


def test_the_same_failure_reason_code_may_appear_in_two_sections() -> None:
    sections = [
        section_data("a", failure_reasons=[failure_reason_data("fr")]),
        section_data("b", failure_reasons=[failure_reason_data("fr")]),
    ]

    template = make_template(sections=sections)

    assert [s.failure_reasons[0].code for s in template.sections] == ["fr", "fr"]


@pytest.mark.parametrize("field", ["sections", "stages"])
def test_a_template_needs_at_least_one_section_and_one_stage(field: str) -> None:
    _refused(template_data(**{field: []}), match=field)


def test_a_section_needs_at_least_one_element() -> None:
    _refused(template_data(sections=[section_data("s1", elements=[])]), match="elements")


@pytest.mark.parametrize("levels", [1, 2, 9])
def test_stage_levels_from_one_to_nine_are_accepted(levels: int) -> None:
    assert make_template(stages=[stage_data(levels=levels)]).stages[0].levels == levels


@pytest.mark.parametrize("levels", [-1, 0, 10, 100])
def test_stage_levels_outside_one_to_nine_are_refused(levels: int) -> None:
    _refused(template_data(stages=[stage_data(levels=levels)]), match="levels")


@pytest.mark.parametrize("field", ["loq_deadline_days", "loq_followup_deadline_days"])
@pytest.mark.parametrize(("days", "ok"), [(0, False), (1, True), (365, True), (366, False)])
def test_loq_deadlines_are_between_one_and_365_days(field: str, days: int, ok: bool) -> None:
    data = template_data(**{field: days})
    if ok:
        assert getattr(TemplateDefinition.model_validate(data), field) == days
    else:
        _refused(data, match=field)


def test_a_pre_assessment_stage_without_a_preliminary_section_is_refused() -> None:
    stages = [stage_data("pre", pre_assessment=True), stage_data("main")]
    _refused(
        template_data(sections=[section_data("s1")], stages=stages),
        match="a pre_assessment stage needs at least one preliminary section",
    )


def test_a_pre_assessment_stage_with_a_preliminary_section_is_accepted() -> None:
    template = make_template(
        sections=[section_data("pre", preliminary=True), section_data("main")],
        stages=[stage_data("pre", pre_assessment=True), stage_data("main")],
    )

    assert template.stages[0].pre_assessment
    assert template.sections[0].preliminary


def test_a_preliminary_section_without_a_pre_assessment_stage_is_accepted() -> None:
    assert make_template(sections=[section_data("s1", preliminary=True)]).sections[0].preliminary


def _with_extra_at(where: str) -> dict[str, object]:
    element = {**element_data("q1"), "extra": 1} if where == "element" else element_data("q1")
    reason = {**failure_reason_data(), "extra": 1} if where == "reason" else failure_reason_data()
    section = section_data("s1", elements=[element], failure_reasons=[reason])
    stage = {**stage_data(), "extra": 1} if where == "stage" else stage_data()
    data = template_data(
        sections=[{**section, "extra": 1} if where == "section" else section], stages=[stage]
    )
    return {**data, "extra": 1} if where == "template" else data


@pytest.mark.parametrize("where", ["template", "section", "element", "reason", "stage"])
def test_unknown_fields_are_refused_at_every_level(where: str) -> None:
    _refused(_with_extra_at(where), match="Extra inputs are not permitted")


def test_a_published_template_cannot_be_changed() -> None:
    template = make_template()

    with pytest.raises(ValidationError, match="frozen"):
        template.name = "Renamed"  # type: ignore[misc]


def _with_code_at(where: str, code: str) -> dict[str, object]:
    if where == "stage":
        return template_data(stages=[stage_data(code)])
    if where == "element":
        return template_data(sections=[section_data("s1", elements=[element_data(code)])])
    if where == "reason":
        reasons = [failure_reason_data(code)]
        return template_data(sections=[section_data("s1", failure_reasons=reasons)])
    return template_data(sections=[section_data(code, elements=[element_data("q1")])])


CODE_PLACES = ["section", "element", "stage", "reason"]


@pytest.mark.parametrize("where", CODE_PLACES)
@pytest.mark.parametrize("code", ["a", "Z", "0", "a-b_c.9", "A" * 64])
def test_codes_of_letters_digits_dot_dash_underscore_are_accepted(where: str, code: str) -> None:
    TemplateDefinition.model_validate(_with_code_at(where, code))


@pytest.mark.parametrize("where", CODE_PLACES)
@pytest.mark.parametrize(
    "code",
    ["", "A" * 65, "has space", "a/b", "a:b", "caf\u00e9", "abc\n", "\tabc", "a+b"],
    ids=["empty", "too-long", "space", "slash", "colon", "accent", "newline", "tab", "plus"],
)
def test_codes_outside_the_pattern_are_refused(where: str, code: str) -> None:
    _refused(_with_code_at(where, code), match="code")


@pytest.mark.parametrize("title", ["", "x" * 501])
def test_titles_must_be_one_to_500_characters(title: str) -> None:
    _refused(template_data(name=title), match="name")


def test_an_unknown_element_type_is_refused() -> None:
    element = {**element_data("q1"), "type": "file"}
    _refused(template_data(sections=[section_data("s1", elements=[element])]), match="type")


def test_an_unknown_failure_reason_kind_is_refused() -> None:
    reason = {**failure_reason_data(), "kind": "maybe"}
    _refused(template_data(sections=[section_data("s1", failure_reasons=[reason])]), match="kind")


def test_an_empty_check_is_refused() -> None:
    _refused(template_data(sections=[section_data("s1", checks=[""])]), match="checks")


def _two_section_template() -> TemplateDefinition:
    return make_template(
        sections=[
            section_data("first", elements=[element_data("name"), element_data("email")]),
            section_data("second", elements=[element_data("dob", type=ElementType.DATE)]),
        ]
    )


@pytest.mark.parametrize(
    ("code", "section"), [("name", "first"), ("email", "first"), ("dob", "second")]
)
def test_element_and_section_of_find_an_element_in_any_section(code: str, section: str) -> None:
    template = _two_section_template()

    element = template.element(code)
    holder = template.section_of(code)

    assert element is not None
    assert element.code == code
    assert holder is not None
    assert holder.code == section
    assert element in holder.elements


@pytest.mark.parametrize("code", ["missing", "first", "NAME", ""])
def test_element_and_section_of_return_none_for_an_unknown_element(code: str) -> None:
    template = _two_section_template()

    assert template.element(code) is None
    assert template.section_of(code) is None
