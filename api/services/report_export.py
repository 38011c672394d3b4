"""`cli.py export-report`: a report written as CSV by an operator, through the same query
and the same CSV writer as `GET /v1/reports/{name}?format=csv`."""

import dataclasses
import sys
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.services.report import statement_for, stream_csv
from core.db import make_engine
from domain.access import Principal, Role
from domain.errors import Refusal
from domain.report import ReportName, check_window, report_zone, window_bound
from domain.values import InstantOrDay
from models.report import OutcomeFilters, SlaFilters

OPERATOR = Principal(sub="cli", roles=frozenset({Role.ADMIN}))
_BOUND: TypeAdapter[datetime | date] = TypeAdapter(InstantOrDay)


def filters_for(
    name: ReportName, bounds: tuple[str | None, str | None], tz: str, pairs: list[str]
) -> OutcomeFilters | SlaFilters:
    """The report's filters from the command line; ValueError naming what is wrong."""
    try:
        report_zone(tz)
        start, end = (None if raw is None else _BOUND.validate_python(raw) for raw in bounds)
        from_at, to_at = window_bound(start, tz), window_bound(end, tz, end=True)
        check_window(from_at, to_at)
    except (Refusal, ValidationError) as error:
        raise ValueError(str(error)) from None
    kind: type[OutcomeFilters | SlaFilters] = (
        SlaFilters if name == ReportName.SLA else OutcomeFilters
    )
    given = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    known = {field.name for field in dataclasses.fields(kind)} - {"from_at", "to_at", "tz"}
    unknown = set(given) - known or {pair for pair in pairs if "=" not in pair}
    if unknown:
        raise ValueError(f"unknown filter(s) {sorted(unknown)}; {name.value} takes {sorted(known)}")
    values: dict[str, Any] = {**given, "from_at": from_at, "to_at": to_at}
    if kind is OutcomeFilters:
        values["tz"] = tz
    try:
        return TypeAdapter(kind).validate_python(values)
    except ValidationError as error:
        raise ValueError(str(error)) from None


def export(
    database_url: str,
    name: str,
    from_: str | None,
    to: str | None,
    tz: str,
    pairs: list[str],
    out: str | None,
) -> int:
    """Write the report as CSV to `out` (standard output when None); the number of rows."""
    try:
        report = ReportName(name)
    except ValueError:
        known = [report.value for report in ReportName]
        raise ValueError(f"no report {name!r}; the reports are {known}") from None
    filters = filters_for(report, (from_, to), tz, pairs)
    statement, shape = statement_for(report, OPERATOR, filters, now=datetime.now(UTC))
    engine = make_engine(database_url, pool_size=1)
    lines = 0
    try:
        with open(out, "w", newline="", encoding="utf-8") if out else _stdout() as target:
            for chunk in stream_csv(engine, statement, shape):
                target.write(chunk)
                lines += chunk.count("\r\n")
    finally:
        engine.dispose()
    return max(lines - 1, 0)  # the header row is no row of the report


def _stdout() -> Any:
    """Standard output, left open when the `with` ends."""
    return open(sys.stdout.fileno(), "w", newline="", encoding="utf-8", closefd=False)
