"""`value_problem`: which answers each element type takes."""

import pytest

from domain.template import ElementType, value_problem
from tests.domain.builders import make_element

REQUIRED = "an answer is required"
EXPECTED = {
    ElementType.TEXT: "expected text of at most 20,000 characters",
    ElementType.NUMBER: "expected a number",
    ElementType.BOOLEAN: "expected true or false",
    ElementType.DATE: "expected a date as YYYY-MM-DD",
    ElementType.EMAIL: "expected an email address",
}

VALID: list[tuple[ElementType, object]] = [
    (ElementType.TEXT, "Yes, we do."),
    (ElementType.TEXT, " "),
    (ElementType.TEXT, "x" * 20_000),
    (ElementType.TEXT, "caf\u00e9 \u2603"),
    (ElementType.NUMBER, 0),
    (ElementType.NUMBER, -3),
    (ElementType.NUMBER, 12),
    (ElementType.NUMBER, 2.5),
    (ElementType.NUMBER, 10**30),
    (ElementType.BOOLEAN, True),
    (ElementType.BOOLEAN, False),
    (ElementType.DATE, "2030-01-01"),
    (ElementType.DATE, "2028-02-29"),
    (ElementType.DATE, "0001-01-01"),
    (ElementType.DATE, "9999-12-31"),
    (ElementType.EMAIL, "a@b.co"),
    (ElementType.EMAIL, "first.last+tag@example.org"),
    (ElementType.EMAIL, "a@" + "d" * 315 + ".uk"),  # 320 characters
]

INVALID: list[tuple[ElementType, object]] = [
    (ElementType.TEXT, "x" * 20_001),
    (ElementType.TEXT, 12),
    (ElementType.TEXT, True),
    (ElementType.TEXT, ["a"]),
    (ElementType.TEXT, {"a": 1}),
    (ElementType.NUMBER, "12"),
    (ElementType.NUMBER, True),
    (ElementType.NUMBER, False),
    (ElementType.NUMBER, [1]),
    (ElementType.BOOLEAN, "true"),
    (ElementType.BOOLEAN, 1),
    (ElementType.BOOLEAN, 0),
    (ElementType.BOOLEAN, "yes"),
    (ElementType.DATE, "20300101"),
    (ElementType.DATE, "2030-1-01"),
    (ElementType.DATE, "2030-01-1"),
    (ElementType.DATE, "01/02/2030"),
    (ElementType.DATE, "2030-02-30"),
    (ElementType.DATE, "2029-02-29"),
    (ElementType.DATE, "2030-13-01"),
    (ElementType.DATE, "2030-01-01T00:00"),
    (ElementType.DATE, "2030-01-01 "),
    (ElementType.DATE, "\uff12\uff10\uff13\uff10-01-01"),
    (ElementType.DATE, 20300101),
    (ElementType.DATE, True),
    (ElementType.EMAIL, "no-at-sign.example.org"),
    (ElementType.EMAIL, "@example.org"),
    (ElementType.EMAIL, "someone@localhost"),
    (ElementType.EMAIL, "some one@example.org"),
    (ElementType.EMAIL, "a@" + "d" * 316 + ".uk"),  # 321 characters
    (ElementType.EMAIL, 42),
    (ElementType.EMAIL, True),
]


def _case_ids(cases: list[tuple[ElementType, object]]) -> list[str]:
    return [f"{type_}-{value!r:.24}" for type_, value in cases]


@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
@pytest.mark.parametrize(("type_", "value"), VALID, ids=_case_ids(VALID))
def test_a_well_formed_answer_has_no_problem(
    type_: ElementType, value: object, required: bool
) -> None:
    assert value_problem(make_element(type_, required=required), value) is None


@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
@pytest.mark.parametrize(("type_", "value"), INVALID, ids=_case_ids(INVALID))
def test_an_ill_formed_answer_names_what_was_expected(
    type_: ElementType, value: object, required: bool
) -> None:
    assert value_problem(make_element(type_, required=required), value) == EXPECTED[type_]


def test_every_element_type_has_valid_and_invalid_cases() -> None:
    assert {t for t, _ in VALID} == {t for t, _ in INVALID} == set(ElementType)


@pytest.mark.parametrize("type_", list(ElementType))
@pytest.mark.parametrize("blank", [None, ""])
def test_a_blank_answer_to_a_required_element_is_required(
    type_: ElementType, blank: object
) -> None:
    assert value_problem(make_element(type_, required=True), blank) == REQUIRED


@pytest.mark.parametrize("type_", list(ElementType))
@pytest.mark.parametrize("blank", [None, ""])
def test_a_blank_answer_to_an_optional_element_is_fine(type_: ElementType, blank: object) -> None:
    assert value_problem(make_element(type_, required=False), blank) is None


@pytest.mark.parametrize(
    ("type_", "value"),
    [(ElementType.NUMBER, 0), (ElementType.NUMBER, 0.0), (ElementType.BOOLEAN, False)],
)
def test_zero_and_false_count_as_answers_to_a_required_element(
    type_: ElementType, value: object
) -> None:
    assert value_problem(make_element(type_, required=True), value) is None


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_accepted_as_a_number(value: bool) -> None:
    assert value_problem(make_element(ElementType.NUMBER), value) == "expected a number"


@pytest.mark.parametrize("value", ["2030-W01-1", "2030-W52-7"])
def test_an_iso_week_date_is_not_a_yyyy_mm_dd_date(value: str) -> None:
    assert value_problem(make_element(ElementType.DATE), value) == EXPECTED[ElementType.DATE]


@pytest.mark.parametrize(
    "value",
    ["a@b@example.org", "a@example.", "a@.org", "a\t@example.org", "a@example.org\n"],
    ids=["two-at-signs", "trailing-dot", "leading-dot", "tab", "trailing-newline"],
)
def test_a_malformed_email_address_is_refused(value: str) -> None:
    assert value_problem(make_element(ElementType.EMAIL), value) == EXPECTED[ElementType.EMAIL]
