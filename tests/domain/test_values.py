"""`domain.values`: every type at the edge, each case it takes and each it refuses."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.values import (
    COMMENT_MAX,
    INT64_MAX,
    INT64_MIN,
    JSON_KEY_MAX,
    JSON_MAX_DEPTH,
    JSON_MAX_NODES,
    JSON_STRING_MAX,
    MAX_DAY,
    MAX_INSTANT,
    MIN_DAY,
    MIN_INSTANT,
    NAME_MAX,
    TITLE_MAX,
    Code,
    Comment,
    Cursor,
    Day,
    Id,
    Instant,
    InstantOrDay,
    Int64,
    JsonValue,
    Label,
    Name,
    Offset,
    OrgId,
    SearchText,
    Title,
    UserId,
    Version,
    json_problem,
    text_problem,
)

NUL = "a\x00b"
SURROGATE = "a\ud800b"
LOW_SURROGATE = "\udfff"
PLUS_14 = timezone(timedelta(hours=14))
MINUS_14 = timezone(timedelta(hours=-14))
NAIVE = datetime(2026, 1, 5, 9)  # noqa: DTZ001 - a time without a zone is what is refused
TEXT_TYPES: list[Any] = [
    Id,
    UserId,
    OrgId,
    Code,
    Label,
    Name,
    Title,
    Comment,
    SearchText,
    Cursor,
]


def accepts(kind: Any, value: object) -> object:
    """The value `kind` makes of `value`."""
    return TypeAdapter(kind).validate_python(value)


def refusal(kind: Any, value: object) -> str:
    """The one error `kind` gives for `value` (type and message)."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    errors = caught.value.errors()
    assert len(errors) == 1, errors
    return f"{errors[0]['type']}: {errors[0]['msg']}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("plain", None),
        ("", None),
        ("caf\u00e9 \u2603 \U0001f600", None),  # a real astral character, not a surrogate
        ("tab\tand\nnewline", None),
        ("\x00", "must not contain NUL (U+0000)"),
        (NUL, "must not contain NUL (U+0000)"),
        (SURROGATE, "must not contain a lone surrogate (U+D800 to U+DFFF)"),
        (LOW_SURROGATE, "must not contain a lone surrogate (U+D800 to U+DFFF)"),
    ],
)
def test_text_problem(text: str, problem: str | None) -> None:
    assert text_problem(text) == problem


@pytest.mark.parametrize("kind", TEXT_TYPES)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (NUL, "text_unstorable: must not contain NUL (U+0000)"),
        (SURROGATE, "text_unstorable: must not contain a lone surrogate (U+D800 to U+DFFF)"),
    ],
)
def test_every_text_type_refuses_unstorable_text(kind: Any, value: str, message: str) -> None:
    assert refusal(kind, value) == message


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Id, "0f8fad5b-d9cb-469f-a165-70867728950e"),
        (Id, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        (Id, "prov-1"),
        (Id, "scheduled:2026-01-01T02:00:00Z"),
        (Id, "x" * 64),
        (UserId, "ada@example.org"),
        (UserId, "u" * 128),
        (OrgId, "school-1"),
        (Code, "qts.v2_main-1"),
        (Code, "c" * 64),
        (Label, "ST0001"),
        (Label, "l" * 64),
        (Name, "Ada Apprentice"),
        (Name, "n" * NAME_MAX),
        (Title, "t" * TITLE_MAX),
        (Comment, ""),
        (Comment, "line one\nline two"),
        (Comment, "c" * COMMENT_MAX),
        (SearchText, ""),
        (Cursor, "MjAyNi0wMS0wMVQwMDowMDowMFp8YWJj"),
    ],
)
def test_text_types_take_ordinary_values(kind: Any, value: str) -> None:
    assert accepts(kind, value) == value


def test_an_org_id_is_stripped() -> None:
    assert accepts(OrgId, "  ab-1 ") == "ab-1"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Id, ""),
        (Id, "x" * 65),
        (Id, "has space"),
        (Id, "a/b"),
        (Id, "caf\u00e9"),
        (Id, "line\n"),
        (UserId, "u" * 129),
        (UserId, "a+b"),
        (OrgId, "   "),
        (OrgId, "o" * 129),
        (Code, ""),
        (Code, "has space"),
        (Code, "c" * 65),
        (Label, ""),
        (Label, "l" * 65),
        (Name, ""),
        (Name, "n" * (NAME_MAX + 1)),
        (Title, "t" * (TITLE_MAX + 1)),
        (Comment, "c" * (COMMENT_MAX + 1)),
        (SearchText, "s" * (NAME_MAX + 1)),
        (Cursor, ""),
        (Cursor, "c" * 513),
        (Id, 12),
    ],
)
def test_text_types_refuse_what_is_out_of_shape(kind: Any, value: object) -> None:
    refusal(kind, value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-05T09:00:00Z",
        "2026-01-05T09:00:00+01:00",
        "1900-01-01T00:00:00Z",
        "1900-01-01T14:00:00+14:00",
        "9999-12-30T23:59:59.999999Z",
        "9999-12-30T09:59:59-14:00",
        datetime(2026, 1, 1, tzinfo=UTC),
    ],
)
def test_an_instant_in_range_is_taken_as_given(value: object) -> None:
    taken = accepts(Instant, value)
    assert isinstance(taken, datetime)
    assert MIN_INSTANT <= taken <= MAX_INSTANT
    assert taken.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0001-01-01T00:00:00+14:00", "instant_range"),  # year 0 in UTC: Python cannot hold it
        ("9999-12-31T23:00:00-14:00", "instant_range"),  # year 10000 in UTC
        ("9999-12-31T00:00:00Z", "instant_range"),  # no day left for arithmetic or zones
        ("1899-12-31T23:59:59Z", "instant_range"),
        ("1900-01-01T13:59:59+14:00", "instant_range"),
        ("0001-01-01T00:00:00Z", "instant_range"),
        (datetime(1, 1, 1, tzinfo=PLUS_14), "instant_range"),
        (datetime(9999, 12, 31, 23, tzinfo=MINUS_14), "instant_range"),
        ("2026-01-05T09:00:00", "timezone_aware"),  # naive: the API takes instants with a zone
        (NAIVE, "timezone_aware"),
        ("2026-02-30T00:00:00Z", "datetime_from_date_parsing"),
        ("soon", "datetime_from_date_parsing"),
    ],
)
def test_an_instant_out_of_range_or_without_a_zone_is_refused(value: object, kind: str) -> None:
    assert refusal(Instant, value).startswith(kind)


def test_the_instant_range_is_named_in_the_message() -> None:
    message = refusal(Instant, "0001-01-01T00:00:00+14:00")
    assert message == (
        "instant_range: must be an instant from 1900-01-01T00:00:00Z to 9999-12-30T23:59:59.999999Z"
    )


@pytest.mark.parametrize("value", ["1900-01-01", "2026-02-28", "9999-12-30", date(2030, 1, 1)])
def test_a_day_in_range_is_taken(value: object) -> None:
    taken = accepts(Day, value)
    assert isinstance(taken, date)
    assert MIN_DAY <= taken <= MAX_DAY
    assert taken + timedelta(days=1) > taken  # a day after it can always be named


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("9999-12-31", "day_range"),
        ("0001-01-01", "day_range"),
        ("1899-12-31", "day_range"),
        ("2026-02-30", "date_from_datetime_parsing"),
        ("tomorrow", "date_from_datetime_parsing"),
    ],
)
def test_a_day_out_of_range_is_refused(value: object, kind: str) -> None:
    assert refusal(Day, value).startswith(kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01", date(2026, 1, 1)),
        ("2026-01-01T10:00:00Z", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("9999-12-30", date(9999, 12, 30)),
        (date(2026, 1, 1), date(2026, 1, 1)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_window_bound_is_an_instant_or_a_day(value: object, expected: object) -> None:
    taken = accepts(InstantOrDay, value)
    assert taken == expected
    assert type(taken) is type(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31", "must be a date from 1900-01-01 to 9999-12-30"),
        ("0001-01-01", "must be a date from 1900-01-01 to 9999-12-30"),
        ("0001-01-01T00:00:00+14:00", "must be an instant from 1900-01-01T00:00:00Z"),
        ("2026-01-01T10:00:00", "Input should have timezone info"),
        ("2026-01-01T00:00:00", "Input should have timezone info"),
        ("yesterday", "Input should be a valid datetime"),
        (NUL, "must not contain NUL"),
        (SURROGATE, "must not contain a lone surrogate"),
        (NAIVE, "Input should have timezone info"),
        (12, "must be an instant with a zone or a date"),
    ],
)
def test_a_window_bound_refuses_with_one_clear_error(value: object, message: str) -> None:
    assert refusal(InstantOrDay, value).startswith(f"instant_or_day: {message}")


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        (Int64, 0, True),
        (Int64, INT64_MAX, True),
        (Int64, INT64_MIN, True),
        (Int64, INT64_MAX + 1, False),
        (Int64, INT64_MIN - 1, False),
        (Int64, 2**64, False),
        (Offset, 0, True),
        (Offset, INT64_MAX, True),
        (Offset, -1, False),
        (Offset, 2**63, False),
        (Version, 1, True),
        (Version, 2**31 - 1, True),
        (Version, 0, False),
        (Version, 2**31, False),
        (Version, "2", True),
        (Version, "99999999999999999999999", False),
    ],
)
def test_integers_fit_their_columns(kind: Any, value: object, ok: bool) -> None:
    if ok:
        assert accepts(kind, value) == int(str(value))
    else:
        refusal(kind, value)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -1.5,
        INT64_MAX,
        INT64_MIN,
        "",
        "x" * JSON_STRING_MAX,
        "caf\u00e9 \U0001f600",
        [],
        {},
        {"k" * JSON_KEY_MAX: [1, "two", {"three": None}]},
        _nested(JSON_MAX_DEPTH),
        list(range(JSON_MAX_NODES - 1)),
    ],
)
def test_a_json_value_that_can_be_stored_is_taken_unchanged(value: object) -> None:
    assert json_problem(value) is None
    assert accepts(JsonValue, value) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (NUL, "the value: must not contain NUL (U+0000)"),
        (SURROGATE, "the value: must not contain a lone surrogate (U+D800 to U+DFFF)"),
        (["ok", NUL], "[1]: must not contain NUL (U+0000)"),
        ({"a": [{"b": SURROGATE}]}, "a[0].b: must not contain a lone surrogate (U+D800 to U+DFFF)"),
        ({NUL: 1}, "the value: a key must not contain NUL (U+0000)"),
        ({"a": {SURROGATE: 1}}, "a: a key must not contain a lone surrogate (U+D800 to U+DFFF)"),
        ({"k" * (JSON_KEY_MAX + 1): 1}, f"the value: a key must be at most {JSON_KEY_MAX} "),
        ({1: "x"}, "the value: a key must be a string"),
        ("x" * (JSON_STRING_MAX + 1), f"the value: text must be at most {JSON_STRING_MAX} "),
        (float("nan"), "the value: numbers must be finite"),
        ([float("inf")], "[0]: numbers must be finite"),
        ({"n": -float("inf")}, "n: numbers must be finite"),
        (INT64_MAX + 1, "the value: integers must fit in 64 bits"),
        ([INT64_MIN - 1], "[0]: integers must fit in 64 bits"),
        (10**30, "the value: integers must fit in 64 bits"),
        (_nested(JSON_MAX_DEPTH + 1), f"must nest at most {JSON_MAX_DEPTH} levels deep"),
        (list(range(JSON_MAX_NODES)), f"must hold at most {JSON_MAX_NODES} values"),
        (b"bytes", "the value: must be JSON (null, true/false, a number, text, a list or"),
        ({"when": NAIVE}, "when: must be JSON"),
    ],
)
def test_a_json_value_that_cannot_be_stored_is_refused_naming_where(
    value: object, problem: str
) -> None:
    found = json_problem(value)
    assert found is not None
    assert found.startswith(problem)
    assert refusal(JsonValue, value) == f"json_unstorable: {found}"
