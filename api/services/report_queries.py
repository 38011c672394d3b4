"""One SQL statement per report: filtered, joined and aggregated in PostgreSQL.

Each statement selects exactly the fields of its row model (models/report.py). Paging and
CSV streaming wrap it (api/services/report.py), so JSON and CSV run the same query.
Constants that partial indexes depend on are written inline (not bound), so the planner
can prove the index's predicate whatever plan it caches.
"""

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased
from sqlmodel import col

from api.services.outcome import visible_to
from domain.access import Principal
from domain.outcome import Audience, Grade, OutcomeKind, OutcomeStatus, audience
from domain.report import FORMULA_TRIGGERS, PASSING_GRADES, TrackingDate
from domain.sla import SlaEventKind
from models.candidate import Candidate, Element
from models.outcome import Outcome
from models.report import OutcomeFilters, SlaFilters
from models.sla import SlaDefinition, SlaInstance, SlaLogEntry

_VOID: ColumnElement[str] = literal_column(f"'{Grade.VOID}'")
_RELEASED = col(Outcome.released_at).is_not(None)
_PASSING = col(Outcome.grade).in_(sorted(PASSING_GRADES))


def _same_component(component: Any) -> ColumnElement[str]:
    """The component as `ix_outcomes_attempts` keys it (certifications have none)."""
    return func.coalesce(component, literal_column("''"))


def _release_day(tz: str) -> ColumnElement[Any]:
    """The calendar day of the release in zone `tz`."""
    return cast(func.timezone(tz, col(Outcome.released_at)), Date)


def _named(model: Any, *names: str) -> list[ColumnElement[Any]]:
    """`model`'s columns `names`, each labelled with its own name (its row model's field)."""
    return [col(getattr(model, name)).label(name) for name in names]


def _matching(
    equal: dict[Any, Any], instant: Any, from_at: datetime | None, to_at: datetime | None
) -> list[ColumnElement[bool]]:
    """Each column equal to its value where one is given, and `instant` in the window."""
    conditions = [column == value for column, value in equal.items() if value is not None]
    if from_at is not None:
        conditions.append(instant >= from_at)
    if to_at is not None:
        conditions.append(instant < to_at)
    return conditions


def _outcome_conditions(
    who: Principal, filters: OutcomeFilters, instant: Any
) -> list[ColumnElement[bool]]:
    """What the caller may see, the filters, and the window on `instant`."""
    equal = {
        col(Outcome.kind): filters.kind,
        col(Outcome.candidate_id): filters.candidate_id,
        col(Outcome.release_method): filters.method,
        col(Candidate.provider_id): filters.provider_id,
        col(Candidate.employer_id): filters.employer_id,
        col(Candidate.standard): filters.standard,
        col(Candidate.cohort): filters.cohort,
        col(Outcome.component): filters.component,
    }
    return [visible_to(who), *_matching(equal, instant, filters.from_at, filters.to_at)]


def _from_outcomes(statement: Select[Any], *, element: bool = True) -> Select[Any]:
    """Outcomes with their candidate (and, for results, element)."""
    joined = statement.select_from(Outcome).join(
        Candidate, col(Candidate.id) == col(Outcome.candidate_id)
    )
    if element:
        joined = joined.outerjoin(Element, col(Element.id) == col(Outcome.element_id))
    return joined


def _counted(statement: Select[Any], who: Principal, filters: OutcomeFilters) -> Select[Any]:
    """The aggregates read outcomes alone (index-only) unless the caller's scope or a
    filter needs the candidate."""
    scoped = audience(who) != Audience.INTERNAL or any(
        (filters.provider_id, filters.employer_id, filters.standard, filters.cohort)
    )
    if scoped:
        return statement.select_from(Outcome).join(
            Candidate, col(Candidate.id) == col(Outcome.candidate_id)
        )
    return statement.select_from(Outcome)


def _per_release_day(
    who: Principal,
    filters: OutcomeFilters,
    counts: Sequence[ColumnElement[Any]],
    *where: ColumnElement[bool],
) -> Select[Any]:
    """`counts` of the released outcomes (that also meet `where`) per release day and kind."""
    day = _release_day(filters.tz).label("date")
    kind: ColumnElement[Any] = col(Outcome.kind).label("kind")
    statement: Select[Any] = select(day, kind, *counts)
    return (
        _counted(statement, who, filters)
        .where(_RELEASED, *where, *_outcome_conditions(who, filters, col(Outcome.released_at)))
        .group_by(day, kind)
    )


def pass_fail(who: Principal, filters: OutcomeFilters) -> Select[Any]:
    """Passes, fails and voids per release day and kind."""
    counts = [
        func.count().filter(_PASSING).label("passed"),
        func.count().filter(col(Outcome.grade) == Grade.FAIL).label("failed"),
        func.count().filter(col(Outcome.grade) == _VOID).label("void"),
    ]
    return _per_release_day(who, filters, counts)


def first_time_pass(who: Principal, filters: OutcomeFilters) -> Select[Any]:
    """First attempts released per day and kind, and how many passed.

    A first attempt has no earlier non-void outcome of its kind for the same candidate
    (and component): the anti-join is served by `ix_outcomes_attempts`.
    """
    earlier = aliased(Outcome)
    tried_before = exists(
        select(literal(1))
        .select_from(earlier)
        .where(
            col(earlier.candidate_id) == col(Outcome.candidate_id),
            col(earlier.kind) == col(Outcome.kind),
            _same_component(col(earlier.component)) == _same_component(col(Outcome.component)),
            col(earlier.grade) != _VOID,
            tuple_(col(earlier.submitted_at), col(earlier.id))
            < tuple_(col(Outcome.submitted_at), col(Outcome.id)),
        )
    )
    counts = [
        func.count().label("first_attempts"),
        func.count().filter(_PASSING).label("first_time_passes"),
    ]
    return _per_release_day(who, filters, counts, col(Outcome.grade) != _VOID, ~tried_before)


def _candidate_columns() -> list[ColumnElement[Any]]:
    return [
        *_named(Outcome, "candidate_id"),
        col(Candidate.name).label("candidate_name"),
        *_named(Candidate, "uln", "provider_id", "employer_id", "standard", "cohort"),
        *_named(Outcome, "component"),
    ]


def outcome_releases(who: Principal, filters: OutcomeFilters) -> Select[Any]:
    """Every release with its method (LEGACY back-fills included)."""
    statement: Select[Any] = select(
        *_named(Outcome, "kind", "id"),
        *_candidate_columns(),
        *_named(Outcome, "grade", "release_method", "completed_at", "released_at"),
    )
    return _from_outcomes(statement, element=False).where(
        _RELEASED, *_outcome_conditions(who, filters, col(Outcome.released_at))
    )


def result_tracking(who: Principal, filters: OutcomeFilters) -> Select[Any]:
    """Each result's progress (certifications' when asked for); for external users
    PostgreSQL itself withholds the grade, status and dates of what is not released."""
    internal = audience(who) == Audience.INTERNAL

    def shown(column: Any) -> ColumnElement[Any]:
        return column if internal else case((_RELEASED, column), else_=null())

    status = (
        col(Outcome.status)
        if internal
        else case((_RELEASED, OutcomeStatus.RELEASED), else_="PENDING_QA")
    )
    filters = dataclasses.replace(filters, kind=filters.kind or OutcomeKind.RESULT)
    by_release = filters.date_field == TrackingDate.RELEASED
    instant = col(Outcome.released_at) if by_release else col(Outcome.submitted_at)
    statement: Select[Any] = select(
        *_named(Outcome, "kind", "id"),
        *_candidate_columns(),
        col(Element.scheduled_at).label("element_scheduled_at"),
        *_named(Outcome, "submitted_at"),
        status.label("status"),
        shown(col(Outcome.grade)).label("grade"),
        shown(col(Outcome.completed_at)).label("completed_at"),
        _RELEASED.label("outcome_released"),
        col(Outcome.released_at).label("available_date"),
        col(Outcome.release_method).label("release_method"),
        shown(col(Outcome.scheduled_release_at)).label("scheduled_release_at")
        if internal
        else null().label("scheduled_release_at"),
    )
    conditions = _outcome_conditions(who, filters, instant)
    if by_release:
        conditions.append(_RELEASED)
    return _from_outcomes(statement).where(*conditions)


def _epoch(value: Any) -> ColumnElement[float]:
    return cast(func.extract("epoch", value), Float)


def sla(filters: SlaFilters, *, now: datetime) -> Select[Any]:
    """SLA instances with elapsed and paused seconds summed from their logs (working
    seconds for an instance on a calendar).

    The log alternates START (PAUSE RESUME)* [PAUSE] [STOP], so the paused time is the
    resumes minus the pauses, plus an open pause up to the stop (or now).
    """
    entry = col(SlaLogEntry.kind)
    at = _epoch(col(SlaLogEntry.at))
    timing = (
        select(
            func.min(at).filter(entry == SlaEventKind.START).label("start"),
            func.max(at).filter(entry == SlaEventKind.STOP).label("stop"),
            func.coalesce(func.sum(at).filter(entry == SlaEventKind.PAUSE), 0).label("p"),
            func.coalesce(func.sum(at).filter(entry == SlaEventKind.RESUME), 0).label("r"),
            (
                func.count().filter(entry == SlaEventKind.PAUSE)
                > func.count().filter(entry == SlaEventKind.RESUME)
            ).label("open_pause"),
        )
        .where(col(SlaLogEntry.instance_id) == col(SlaInstance.id))
        .lateral("timing")
    )
    end = func.coalesce(timing.c.stop, _epoch(literal(now)))
    paused = timing.c.r - timing.c.p + case((timing.c.open_pause, end), else_=0)
    elapsed = func.greatest(end - timing.c.start - paused, 0)
    wall = col(SlaInstance.calendar).is_(None)
    columns: list[ColumnElement[Any]] = [
        *_named(SlaInstance, "definition", "version"),
        *_named(SlaDefinition, "name"),
        *_named(SlaInstance, "subject", "candidate_id", "status", "started_at", "stopped_at"),
        case((wall, func.coalesce(elapsed, 0)), else_=_working(now, "running")).label("elapsed_s"),
        case((wall, func.coalesce(paused, 0)), else_=_working(now, "paused")).label("paused_s"),
        *_named(SlaInstance, "goal_s"),
        col(SlaInstance.breached_at).is_not(None).label("breached"),
        *_named(SlaInstance, "breached_at"),
        col(SlaInstance.id).label("instance_id"),
        *_named(SlaInstance, "warned", "calendar", "calendar_version"),
    ]
    statement = (
        select(*columns)
        .select_from(SlaInstance)
        .join(
            SlaDefinition,
            and_(
                col(SlaDefinition.code) == col(SlaInstance.definition),
                col(SlaDefinition.version) == col(SlaInstance.version),
            ),
        )
        .join(timing, literal(True))
    )
    return statement.where(*_sla_conditions(filters))


def _working(now: datetime, counting: str) -> ColumnElement[float]:
    """Running or paused working seconds of a calendared instance (migration 0014's SQL
    function, the arithmetic of domain/calendar.py)."""
    return func.sla_working_time(col(SlaInstance.id), literal(now), literal(counting), type_=Float)


def _sla_conditions(filters: SlaFilters) -> list[ColumnElement[bool]]:
    equal = {
        col(SlaInstance.definition): filters.definition,
        col(SlaInstance.subject): filters.subject,
        col(SlaInstance.candidate_id): filters.candidate_id,
        col(SlaInstance.status): filters.status,
    }
    started = col(SlaInstance.started_at)
    conditions = _matching(equal, started, filters.from_at, filters.to_at)
    if filters.breached is not None:
        breached = col(SlaInstance.breached_at).is_not(None)
        conditions.append(breached if filters.breached else ~breached)
    return conditions


# CSV cells built by PostgreSQL (`COPY … TO STDOUT (FORMAT csv)`, api/services/report.py):
# each gives the text `domain.report.csv_row` writes for the same value, NULL for an
# empty cell (COPY quotes an empty string, `csv.writer` does not).

# Python's blank space (`str.isspace`, what `str.lstrip()` strips).
_BLANK = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
_BLANK_TRIGGERS = "".join(c for c in FORMULA_TRIGGERS if c.isspace())
# ("-" last in the bracket, where it means itself)
_SIGN_TRIGGERS = "".join(sorted((c for c in FORMULA_TRIGGERS if not c.isspace()), key="-".__eq__))
# `_runs_as_formula`: a trigger after leading spaces, or a sign after any leading blank.
FORMULA_PATTERN = f"^( *[{_BLANK_TRIGGERS}]|[{_BLANK}]*[{_SIGN_TRIGGERS}])"
# Cells starting with a letter, a digit, "." or "/" (most of them) cannot run as a formula
# and skip the pattern (two range tests on the first code point).
_PLAIN_STARTS = ((ord("A"), ord("z")), (ord("."), ord("9")))
assert not any(lo <= ord(c) <= hi for lo, hi in _PLAIN_STARTS for c in _BLANK + _SIGN_TRIGGERS)
_INSTANT = 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'


def _text(value: Any) -> ColumnElement[str]:
    return cast(value, Text)


def csv_text(value: Any) -> ColumnElement[str]:
    """Text (or an enum's value), with an apostrophe before what would run as a formula."""
    text = _text(value)
    first = func.ascii(text)
    plain = or_(*(first.between(lo, hi) for lo, hi in _PLAIN_STARTS))
    formula = and_(~plain, text.regexp_match(FORMULA_PATTERN))
    neutral = case((formula, literal_column("''''").concat(text)), else_=text)
    return func.nullif(neutral, literal_column("''"))


def csv_instant(value: Any) -> ColumnElement[str]:
    """`datetime.isoformat()` of an instant read in UTC (the export pins its session's
    zone to UTC, api/services/report.py): microseconds only when there are some."""
    shown = func.to_char(cast(value, DateTime(timezone=True)), _INSTANT)
    return func.replace(shown, literal_column("'.000000'"), "")


def csv_date(value: Any) -> ColumnElement[str]:
    """`date.isoformat()`."""
    return func.to_char(cast(value, Date), literal_column("'YYYY-MM-DD'"))


def csv_bool(value: Any) -> ColumnElement[str]:
    """`true` / `false` (empty for null)."""
    return case({True: literal_column("'true'"), False: "false"}, value=cast(value, Boolean))


def csv_float(value: Any) -> ColumnElement[str]:
    """`str(float)`: PostgreSQL's shortest text of the double with Python's spelling of a
    whole number (`3.0`) and of the specials (`nan`, `inf`, `-inf`).

    The value is named once: the report's columns are expressions (an SLA's elapsed time
    sums its log), which PostgreSQL would compute again for every mention. Both write an
    exponent from 1e16 and below 1e-4; PostgreSQL also from 1e15, which no number of
    seconds between two PostgreSQL instants reaches (at most about 9.4e12).
    """
    text = _text(cast(value, Float))
    whole = func.regexp_replace(text, literal_column("'^(-?[0-9]+)$'"), "\\1.0")
    return func.replace(func.replace(whole, "NaN", "nan"), "Infinity", "inf")


def csv_int(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """`str(int)`: PostgreSQL's integer text is the same."""
    return value
