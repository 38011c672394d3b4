"""The cases bench/reports.py measures: each request and the SQL statement it runs, built
with the service functions exactly as `page()`, `stream_csv()` and `pending()` build them."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from report_seed import DAY, NOW
from sqlalchemy import Engine, Select, event
from sqlmodel import Session

from api.pagination import DEFAULT_LIMIT
from api.services import report_queries as queries
from api.services.outcome_release import PendingFilters, pending
from api.services.report import SHAPES, Shape, ordered, tracking_shape
from domain.access import Principal, Role
from domain.report import ReportName
from models.report import OutcomeFilters, SlaFilters

Sql = tuple[str, dict[str, Any]]
WHO = Principal(sub="bench", roles=frozenset({Role.ADMIN}))


def compiled(engine: Engine, statement: Select[Any]) -> Sql:
    """The SQL and parameters the engine's driver receives for `statement`."""
    done = statement.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    return done.string, dict(done.params)


@contextmanager
def captured(engine: Engine) -> Iterator[list[str]]:
    """The SQL every cursor of `engine` executes meanwhile."""
    seen: list[str] = []

    def hook(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def pending_sql(engine: Engine, filters: PendingFilters) -> Sql:
    """The statement `pending()` sends for the first page (captured from the service, not
    rebuilt here: its query is built inside the function)."""
    calls: list[Sql] = []

    def hook(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        calls.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        with Session(engine) as session:
            pending(session, filters, limit=DEFAULT_LIMIT, cursor=None)
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    (call,) = calls
    return call


@dataclass(frozen=True)
class Case:
    """One request, and the SQL statement it runs."""

    label: str
    path: str
    params: dict[str, str]
    sql: Sql
    repeats: int
    csv: bool = False
    # CSV: the statement and shape `stream_csv` is given (timed directly, without HTTP)
    export: tuple[Select[Any], Shape] | None = None


def report_sql(engine: Engine, statement: Select[Any], shape: Shape, *, whole: bool = False) -> Sql:
    """A report's statement as `page()` (first page) or `stream_csv()` (whole) runs it."""
    outer = ordered(statement, shape)
    return compiled(engine, outer if whole else outer.limit(DEFAULT_LIMIT + 1))


def cases(engine: Engine, provider_id: str, repeats: int) -> list[Case]:
    """The pending list, each report's first page (90 days; the aggregates also a year),
    and the CSV export of the detail reports over 90 days."""
    quarter, year = NOW - 90 * DAY, NOW - 365 * DAY
    few = max(3, repeats // 5)

    def window(start: datetime, **extra: str) -> dict[str, str]:
        return {"from": start.isoformat(), "to": NOW.isoformat(), **extra}

    def outcomes(start: datetime) -> OutcomeFilters:
        return OutcomeFilters(from_at=start, to_at=NOW)

    path = "/v1/reports/"
    pending_path = "/v1/outcome-releases/pending"
    releases = queries.outcome_releases(WHO, outcomes(quarter))
    tracking = queries.result_tracking(WHO, outcomes(quarter))
    tracking_year = queries.result_tracking(WHO, outcomes(year))
    release_shape, track_shape = SHAPES[ReportName.OUTCOME_RELEASES], tracking_shape(False)

    def export(name: str, days: int, statement: Select[Any], shape: Shape) -> Case:
        """The whole CSV export of report `name` over the last `days`."""
        start = quarter if days == 90 else year
        return Case(
            f"{name} CSV, {days} days",
            path + name,
            window(start, format="csv"),
            report_sql(engine, statement, shape, whole=True),
            few,
            csv=True,
            export=(statement, shape),
        )

    return [
        Case(
            "pending, first page", pending_path, {}, pending_sql(engine, PendingFilters()), repeats
        ),
        Case(
            "pending, one provider",
            pending_path,
            {"provider_id": provider_id},
            pending_sql(engine, PendingFilters(provider_id=provider_id)),
            repeats,
        ),
        *(
            Case(
                f"{name.value}, {days} days",
                path + name.value,
                window(start),
                report_sql(engine, build(WHO, outcomes(start)), SHAPES[name]),
                repeats,
            )
            for name, build in (
                (ReportName.PASS_FAIL, queries.pass_fail),
                (ReportName.FIRST_TIME_PASS, queries.first_time_pass),
            )
            for days, start in ((90, quarter), (365, year))
        ),
        Case(
            "outcome-releases, 90 days",
            path + "outcome-releases",
            window(quarter),
            report_sql(engine, releases, release_shape),
            repeats,
        ),
        Case(
            "sla, 90 days",
            path + "sla",
            window(quarter),
            report_sql(
                engine,
                queries.sla(SlaFilters(from_at=quarter, to_at=NOW), now=NOW),
                SHAPES[ReportName.SLA],
            ),
            repeats,
        ),
        Case(
            "result-tracking, 90 days",
            path + "result-tracking",
            window(quarter),
            report_sql(engine, tracking, track_shape),
            repeats,
        ),
        export("outcome-releases", 90, releases, release_shape),
        export("result-tracking", 90, tracking, track_shape),
        export("result-tracking", 365, tracking_year, track_shape),
    ]
