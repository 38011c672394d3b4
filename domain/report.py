"""Report rules: who reads which report, what counts as a pass, first attempts, safe CSV cells.

Reports count outcomes on the day they were *released* (never the completion day), so
an outcome still pending counts nowhere, and external users only ever see released ones.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from domain.access import Principal
from domain.errors import Invalid, field_error
from domain.outcome import Audience, Grade, OutcomeKind, audience


class ReportName(StrEnum):
    """The reports `GET /v1/reports/{name}` serves."""

    PASS_FAIL = "pass-fail"
    FIRST_TIME_PASS = "first-time-pass"
    OUTCOME_RELEASES = "outcome-releases"
    SLA = "sla"
    RESULT_TRACKING = "result-tracking"


class ReportFormat(StrEnum):
    """JSON pages, or the whole report streamed as CSV."""

    JSON = "json"
    CSV = "csv"


class TrackingDate(StrEnum):
    """Which instant `from`/`to` bound in the result-tracking report."""

    SUBMITTED = "submitted"
    RELEASED = "released"


# Reports about released outcomes: external users read them, scoped to their organisation.
OUTCOME_REPORTS = frozenset(
    {
        ReportName.PASS_FAIL,
        ReportName.FIRST_TIME_PASS,
        ReportName.OUTCOME_RELEASES,
        ReportName.RESULT_TRACKING,
    }
)

PASSING_GRADES = frozenset({Grade.PASS, Grade.MERIT, Grade.DISTINCTION})

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|")
_TRIGGER_CHARS = frozenset(FORMULA_TRIGGERS)


def may_read(who: Principal, name: ReportName) -> bool:
    """Internal roles read every report; candidate, provider and employer users (with an
    organisation) read the outcome reports, which then hold only their released outcomes."""
    seen_as = audience(who)
    if seen_as == Audience.INTERNAL:
        return True
    return seen_as == Audience.EXTERNAL and name in OUTCOME_REPORTS


def counts_as_pass(grade: Grade) -> bool | None:
    """True for a pass (any passing grade), False for a fail, None for a void (not counted)."""
    if grade == Grade.VOID:
        return None
    return grade in PASSING_GRADES


def rate(part: int, whole: int) -> float | None:
    """`part` of `whole` as a fraction rounded to 4 places (None when there is nothing)."""
    return round(part / whole, 4) if whole else None


def check_window(from_at: datetime | None, to_at: datetime | None) -> None:
    """`from` is inclusive, `to` exclusive: `to` must come after `from`."""
    if from_at is not None and to_at is not None and to_at <= from_at:
        raise Invalid(
            "the report window is empty: `to` must be after `from`",
            errors=[field_error("to", "must be after from")],
        )


@cache
def _zone_names() -> frozenset[str]:
    # Names of this host's data rather than zones (PostgreSQL refuses them).
    return frozenset(available_timezones() - {"localtime", "posixrules", "Factory"})


def report_zone(name: str) -> ZoneInfo:
    """The IANA time zone days are counted in (422 for an unknown name)."""
    if name not in _zone_names() and name != "UTC":
        raise Invalid(
            f"unknown time zone {name!r}",
            errors=[field_error("tz", "an IANA time zone name, e.g. Europe/London")],
        )
    return ZoneInfo(name)


def window_bound(value: date | datetime | None, zone: str, *, end: bool = False) -> datetime | None:
    """`from`/`to` as an instant: an instant as given; a bare date is its midnight in `zone`
    (as `to`, the midnight after it, so `to` names the last day included)."""
    if value is None or isinstance(value, datetime):
        return value
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(), tzinfo=report_zone(zone)).astimezone(UTC)


def csv_cell(value: object) -> str:
    """One CSV cell: empty for null, ISO 8601 for instants, and text that a spreadsheet
    would run as a formula neutralised with a leading apostrophe (OWASP advice)."""
    if value is None:
        return ""
    if isinstance(value, str):  # the common case first: exports are mostly text
        return "'" + value if _runs_as_formula(value) else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if _runs_as_formula(text) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Each value as `csv_cell` writes it, for `csv.writer` (the same text, the same bytes).

    The common kinds are handled inline, with no call per cell: text that cannot run as a
    formula, instants, integers and nulls go to the writer as they are (it writes an
    integer with `str` and a null as an empty cell, as `csv_cell` does); any other value
    goes through `csv_cell`.
    """
    return [
        value
        if (kind := type(value)) is str and not (value[:1] in _TRIGGER_CHARS or value[:1].isspace())
        else value.isoformat()
        if kind is datetime
        else value
        if kind is int or value is None
        else csv_cell(value)
        for value in values
    ]


def _runs_as_formula(text: str) -> bool:
    # Only a trigger, or blank space that may hide one, is worth a closer look.
    if not text or not (text[0] in _TRIGGER_CHARS or text[0].isspace()):
        return False
    return text.lstrip(" ").startswith(FORMULA_TRIGGERS) or text.lstrip().startswith(
        FORMULA_TRIGGERS
    )


@dataclass(frozen=True)
class Attempt:
    """One outcome as the first-time-pass rule sees it."""

    id: str
    kind: OutcomeKind
    candidate_id: str
    component: str | None
    grade: Grade
    submitted_at: datetime


def first_attempts(attempts: Iterable[Attempt]) -> set[str]:
    """Ids of outcomes that were the candidate's first try: the earliest non-void outcome
    of its kind for the candidate (and, for results, the element's component). A void is
    no attempt; ties on submission time are broken by id."""
    first: dict[tuple[OutcomeKind, str, str | None], Attempt] = {}
    for attempt in attempts:
        if attempt.grade == Grade.VOID:
            continue
        key = (attempt.kind, attempt.candidate_id, attempt.component)
        held = first.get(key)
        if held is None or (attempt.submitted_at, attempt.id) < (held.submitted_at, held.id):
            first[key] = attempt
    return {attempt.id for attempt in first.values()}
