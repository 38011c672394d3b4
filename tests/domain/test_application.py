"""Application rules: which actions each status allows, answers, completeness, first stage."""

import itertools

import pytest

from domain.application import (
    ApplicationAction,
    ApplicationStatus,
    AssessmentStatus,
    allowed_actions,
    assessment_status_for,
    check_answer,
    check_complete,
    ensure_allowed,
    first_stage,
)
from domain.errors import Conflict, Invalid
from domain.template import ElementType, Stage, TemplateDefinition
from tests.domain.builders import element_data, make_template, section_data, stage_data

EDIT, SUBMIT, WITHDRAW = (
    ApplicationAction.EDIT,
    ApplicationAction.SUBMIT,
    ApplicationAction.WITHDRAW,
)

# The table from API.md, written out independently of the code under test.
OPEN_TO_APPLICANT: dict[ApplicationStatus, set[ApplicationAction]] = {
    ApplicationStatus.DRAFT: {EDIT, SUBMIT, WITHDRAW},
    ApplicationStatus.CHANGES_REQUIRED: {EDIT, SUBMIT, WITHDRAW},
    ApplicationStatus.SUBMITTED: {WITHDRAW},
    ApplicationStatus.COMPLETED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}
EVERY_PAIR = list(itertools.product(ApplicationStatus, ApplicationAction))


def test_the_table_covers_every_status() -> None:
    assert set(OPEN_TO_APPLICANT) == set(ApplicationStatus)


@pytest.mark.parametrize("status", list(ApplicationStatus))
def test_allowed_actions_are_the_table_row_sorted(status: ApplicationStatus) -> None:
    assert allowed_actions(status) == sorted(a.value for a in OPEN_TO_APPLICANT[status])


@pytest.mark.parametrize(("status", "action"), EVERY_PAIR)
def test_ensure_allowed_follows_the_table(
    status: ApplicationStatus, action: ApplicationAction
) -> None:
    if action in OPEN_TO_APPLICANT[status]:
        ensure_allowed(action, status)
        assert action.value in allowed_actions(status)
        return
    with pytest.raises(Conflict) as refused:
        ensure_allowed(action, status)
    assert action.value not in allowed_actions(status)
    assert refused.value.allowed == allowed_actions(status)


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s, a in EVERY_PAIR if a not in OPEN_TO_APPLICANT[s]],
)
def test_a_refusal_is_a_409_naming_the_action_status_and_what_is_allowed(
    status: ApplicationStatus, action: ApplicationAction
) -> None:
    with pytest.raises(Conflict) as refused:
        ensure_allowed(action, status)

    conflict = refused.value
    assert conflict.status == 409
    assert conflict.kind == "Conflict"
    assert f"cannot {action.value}" in conflict.detail
    assert status.value in conflict.detail
    allowed = sorted(a.value for a in OPEN_TO_APPLICANT[status])
    assert conflict.allowed == allowed
    assert conflict.detail.endswith(f"allowed: {', '.join(allowed) or 'nothing'}")


def test_a_refusal_in_a_terminal_status_says_nothing_is_allowed() -> None:
    with pytest.raises(Conflict) as refused:
        ensure_allowed(EDIT, ApplicationStatus.WITHDRAWN)

    assert refused.value.allowed == []
    assert refused.value.detail == (
        "cannot edit an application that is WITHDRAWN; allowed: nothing"
    )


def _template() -> TemplateDefinition:
    return make_template(
        sections=[
            section_data(
                "contact",
                elements=[
                    element_data("name", required=True),
                    element_data("email", type=ElementType.EMAIL, required=True),
                    element_data("phone"),
                ],
            ),
            section_data(
                "capacity",
                elements=[
                    element_data("staff", type=ElementType.NUMBER, required=True),
                    element_data("opened_on", type=ElementType.DATE),
                ],
            ),
        ]
    )


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("name", "Acme Training"),
        ("email", "ops@acme.example"),
        ("phone", ""),
        ("staff", 0),
        ("opened_on", "2020-09-01"),
    ],
)
def test_check_answer_accepts_a_valid_answer(code: str, value: object) -> None:
    check_answer(_template(), code, value)


@pytest.mark.parametrize("code", ["name", "email", "staff", "phone"])
def test_check_answer_accepts_none_so_a_draft_answer_can_be_cleared(code: str) -> None:
    check_answer(_template(), code, None)


@pytest.mark.parametrize("code", ["nope", "contact", "NAME", ""])
def test_check_answer_refuses_an_unknown_element_on_field_element_code(code: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_answer(_template(), code, "anything")

    assert refused.value.status == 422
    assert refused.value.errors == [{"field": "element_code", "message": "unknown element"}]
    assert repr(code) in refused.value.detail


@pytest.mark.parametrize(
    ("code", "value", "problem"),
    [
        ("email", "not-an-email", "expected an email address"),
        ("staff", "12", "expected a number"),
        ("staff", True, "expected a number"),
        ("opened_on", "01/09/2020", "expected a date as YYYY-MM-DD"),
        ("name", 7, "expected text of at most 20,000 characters"),
    ],
)
def test_check_answer_refuses_a_bad_value_on_field_value(
    code: str, value: object, problem: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_answer(_template(), code, value)

    assert refused.value.errors == [{"field": "value", "message": problem}]
    assert refused.value.detail == f"{code}: {problem}"


@pytest.mark.parametrize("code", ["name", "email", "staff"])
def test_check_answer_accepts_an_empty_string_like_none_for_a_required_element(
    code: str,
) -> None:
    check_answer(_template(), code, "")


COMPLETE: dict[str, object] = {"name": "Acme", "email": "ops@acme.example", "staff": 3}


@pytest.mark.parametrize(
    "answers",
    [COMPLETE, {**COMPLETE, "phone": "", "opened_on": None}, {**COMPLETE, "unknown": "x"}],
    ids=["required-only", "optional-blank", "extra-key-ignored"],
)
def test_check_complete_accepts_every_required_answer_valid(answers: dict[str, object]) -> None:
    check_complete(_template(), answers)


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ({}, ["name", "email", "staff"]),
        ({**COMPLETE, "name": ""}, ["name"]),
        ({**COMPLETE, "email": None}, ["email"]),
        ({**COMPLETE, "staff": "three"}, ["staff"]),
        ({**COMPLETE, "opened_on": "tomorrow"}, ["opened_on"]),
        ({"email": "x", "opened_on": "2020-9-1"}, ["name", "email", "staff", "opened_on"]),
    ],
    ids=["nothing", "blank", "none", "wrong-type", "invalid-optional", "several-in-order"],
)
def test_check_complete_lists_each_missing_or_invalid_answer_in_template_order(
    answers: dict[str, object], fields: list[str]
) -> None:
    with pytest.raises(Invalid) as refused:
        check_complete(_template(), answers)

    errors = refused.value.errors or []
    assert [e["field"] for e in errors] == [f"responses.{code}" for code in fields]
    assert all(e["message"] for e in errors)
    assert refused.value.detail == f"the application is not complete: {', '.join(fields)}"


def test_check_complete_says_why_each_answer_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        check_complete(_template(), {**COMPLETE, "name": None, "staff": "3"})

    assert refused.value.errors == [
        {"field": "responses.name", "message": "an answer is required"},
        {"field": "responses.staff", "message": "expected a number"},
    ]


@pytest.mark.parametrize(
    ("pre_assessment", "expected"),
    [(True, AssessmentStatus.PRE_ASSESSMENT), (False, AssessmentStatus.NOT_STARTED)],
)
def test_a_fresh_assessment_starts_in_pre_assessment_only_for_such_a_stage(
    pre_assessment: bool, expected: AssessmentStatus
) -> None:
    stage = Stage(code="st", name="Stage", levels=1, pre_assessment=pre_assessment)

    assert assessment_status_for(stage) == expected


def test_first_stage_is_the_first_stage_listed() -> None:
    template = make_template(
        sections=[section_data("s1", preliminary=True)],
        stages=[stage_data("triage", pre_assessment=True), stage_data("main"), stage_data("a")],
    )

    stage = first_stage(template)

    assert stage.code == "triage"
    assert assessment_status_for(stage) == AssessmentStatus.PRE_ASSESSMENT
