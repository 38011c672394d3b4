"""The values the API takes at its edge, as reusable pydantic types (decision 0072).

Every string refuses NUL (PostgreSQL `text` and `jsonb` cannot hold U+0000) and lone
surrogates (they cannot be encoded as UTF-8) and has a maximum length. Instants carry a
zone and lie, once normalised to UTC, between `MIN_INSTANT` and `MAX_INSTANT`; days lie
between `MIN_DAY` and `MAX_DAY`: a day inside what Python's `datetime` holds, so a shift
into any zone or a day's arithmetic (a report's `to` + 1 day) cannot overflow, and well
inside PostgreSQL's `timestamptz`. Integers fit in 64 bits. A JSON answer is checked all
the way down. Each type fails with a message the problem JSON shows under the field.
"""

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

MIN_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(9999, 12, 30)
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

ID_MAX = 64
USER_ID_MAX = 128
ORG_ID_MAX = 128
LABEL_MAX = 64
NAME_MAX = 200
TITLE_MAX = 500
COMMENT_MAX = 10_000
CURSOR_MAX = 512
JSON_STRING_MAX = 20_000
JSON_KEY_MAX = 200
JSON_MAX_DEPTH = 16
JSON_MAX_NODES = 10_000

_T = TypeVar("_T")
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: object) -> object:
    """`value` unchanged unless it is a string holding NUL or a lone surrogate."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise PydanticCustomError("text_unstorable", problem)
    return value


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored as text, or None when it can."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL (U+0000)"
    return "must not contain a lone surrogate (U+D800 to U+DFFF)"


# Last in each `Annotated`, so it runs first: before pydantic's own unclear surrogate error.
_Clean = BeforeValidator(clean_text)

# Ids: opaque, but only ever made of these characters (UUIDs, ULIDs, readable keys).
Id = Annotated[str, StringConstraints(pattern=rf"^[A-Za-z0-9_.:@+-]{{1,{ID_MAX}}}$"), _Clean]
UserId = Annotated[
    str, StringConstraints(pattern=rf"^[A-Za-z0-9_.@:-]{{1,{USER_ID_MAX}}}$"), _Clean
]
OrgId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ORG_ID_MAX), _Clean
]
# Codes: templates, sections, elements, stages, failure reasons, SLA definitions.
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$"), _Clean]
# Free text by size: a label (standard, cohort, component), a name, a title, a comment.
Label = Annotated[str, StringConstraints(min_length=1, max_length=LABEL_MAX), _Clean]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), _Clean]
Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_MAX), _Clean]
Comment = Annotated[str, StringConstraints(max_length=COMMENT_MAX), _Clean]
SearchText = Annotated[str, StringConstraints(max_length=NAME_MAX), _Clean]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=CURSOR_MAX), _Clean]

Int64 = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
Offset = Annotated[int, Ge(0), Le(INT64_MAX)]
Version = Annotated[int, Ge(1), Le(INT32_MAX)]


def _in_instant_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_INSTANT <= utc <= MAX_INSTANT:
        raise PydanticCustomError(
            "instant_range",
            "must be an instant from {low} to {high}",
            {"low": "1900-01-01T00:00:00Z", "high": "9999-12-30T23:59:59.999999Z"},
        )
    return value


def _in_day_range(value: date) -> date:
    if not MIN_DAY <= value <= MAX_DAY:
        raise PydanticCustomError(
            "day_range",
            "must be a date from {low} to {high}",
            {"low": MIN_DAY.isoformat(), "high": MAX_DAY.isoformat()},
        )
    return value


# An instant: RFC 3339 with a zone (naive times refused), within the range above.
Instant = Annotated[AwareDatetime, AfterValidator(_in_instant_range)]
# A calendar day (YYYY-MM-DD), within the range above.
Day = Annotated[date, AfterValidator(_in_day_range)]

_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
_DAY: TypeAdapter[date] = TypeAdapter(Day)
_STRICT_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def instant_or_day(value: object) -> datetime | date:
    """A bound of a report window: an instant with a zone, or a bare date (one error)."""
    if isinstance(value, str) and (problem := text_problem(value)) is not None:
        raise PydanticCustomError("instant_or_day", problem)
    is_day = isinstance(value, str) and _STRICT_DAY.fullmatch(value) is not None
    if is_day or (isinstance(value, date) and not isinstance(value, datetime)):
        return _one_error(_DAY, value)
    if isinstance(value, str | datetime):
        return _one_error(_INSTANT, value)
    raise PydanticCustomError("instant_or_day", "must be an instant with a zone or a date")


def _one_error(adapter: TypeAdapter[_T], value: object) -> _T:
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        raise PydanticCustomError("instant_or_day", str(first["msg"])) from None


InstantOrDay = Annotated[
    datetime | date,
    PlainValidator(instant_or_day),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]


def json_problem(value: object) -> str | None:
    """Why `value` cannot be stored as a JSON answer, or None when it can: every string and
    key storable text, keys and strings bounded, numbers finite and integers 64-bit,
    nesting and size bounded."""
    pending: list[tuple[str, object, int]] = [("", value, 0)]
    nodes = 0
    while pending:
        path, item, depth = pending.pop()
        nodes += 1
        if nodes > JSON_MAX_NODES:
            return f"must hold at most {JSON_MAX_NODES} values"
        if depth > JSON_MAX_DEPTH:
            return f"must nest at most {JSON_MAX_DEPTH} levels deep"
        problem = _scalar_problem(item)
        if problem is not None:
            return f"{path or 'the value'}: {problem}"
        if isinstance(item, dict):
            for key, inner in item.items():
                key_problem = _key_problem(key)
                if key_problem is not None:
                    return f"{path or 'the value'}: a key {key_problem}"
                pending.append((f"{path}.{key}" if path else str(key), inner, depth + 1))
        elif isinstance(item, list):
            pending.extend((f"{path}[{i}]", inner, depth + 1) for i, inner in enumerate(item))
    return None


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return "must be a string"
    if len(key) > JSON_KEY_MAX:
        return f"must be at most {JSON_KEY_MAX} characters"
    return text_problem(key)


def _scalar_problem(item: object) -> str | None:
    if isinstance(item, str):
        if len(item) > JSON_STRING_MAX:
            return f"text must be at most {JSON_STRING_MAX} characters"
        return text_problem(item)
    if isinstance(item, bool) or item is None or isinstance(item, dict | list):
        return None
    if isinstance(item, int):
        return None if INT64_MIN <= item <= INT64_MAX else "integers must fit in 64 bits"
    if isinstance(item, float):
        return None if math.isfinite(item) else "numbers must be finite"
    return "must be JSON (null, true/false, a number, text, a list or an object)"


def _checked_json(value: Any) -> Any:
    problem = json_problem(value)
    if problem is not None:
        raise PydanticCustomError("json_unstorable", problem)
    return value


# Any JSON value (an answer), checked all the way down.
JsonValue = Annotated[Any, AfterValidator(_checked_json)]
