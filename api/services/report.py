"""Running a report: a JSON page (keyset over the report's own order) or the whole report
streamed as CSV, both from the same statement."""

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, RowMapping, Select, text, tuple_
from sqlmodel import Session

from api.pagination import decode_key, encode_cursor
from api.services import report_queries as queries
from domain.access import Principal
from domain.report import ReportName, TrackingDate, csv_row, rate
from models.report import (
    FirstTimePassRow,
    OutcomeFilters,
    OutcomeReleaseRow,
    PassFailRow,
    ReportPage,
    ResultTrackingRow,
    SlaFilters,
    SlaReportRow,
)

# Rows fetched from the server-side cursor at a time, and rows per streamed chunk.
STREAM_BATCH = 2000
CHUNK_ROWS = 2000
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
# An export reads every row: plan the cursor for all of them, not for the first tenth
# (PostgreSQL's default for cursors favours fast-start plans).
WHOLE_CURSOR = text("SET LOCAL cursor_tuple_fraction = 1.0")


def _pass_fail(row: RowMapping) -> dict[str, Any]:
    total = row["passed"] + row["failed"]
    return {**row, "total": total, "pass_rate": rate(row["passed"], total)}


def _first_time(row: RowMapping) -> dict[str, Any]:
    return {
        **row,
        "first_time_pass_rate": rate(row["first_time_passes"], row["first_attempts"]),
    }


@dataclass(frozen=True)
class Shape:
    """How a report's rows are ordered (newest first) and completed (derived fields)."""

    row: type[BaseModel]
    keys: tuple[str, str]
    first_key: Callable[[str], date | datetime]
    # The row's fields with the derived ones (JSON pages validate it, CSV writes it).
    derive: Callable[[RowMapping], Mapping[str, Any]] = dict


def _detail(row: type[BaseModel], at: str) -> Shape:
    return Shape(row, (at, "id"), datetime.fromisoformat)


SHAPES: dict[ReportName, Shape] = {
    ReportName.PASS_FAIL: Shape(PassFailRow, ("date", "kind"), date.fromisoformat, _pass_fail),
    ReportName.FIRST_TIME_PASS: Shape(
        FirstTimePassRow, ("date", "kind"), date.fromisoformat, _first_time
    ),
    ReportName.OUTCOME_RELEASES: _detail(OutcomeReleaseRow, "released_at"),
    ReportName.RESULT_TRACKING: _detail(ResultTrackingRow, "submitted_at"),
    ReportName.SLA: Shape(SlaReportRow, ("started_at", "instance_id"), datetime.fromisoformat),
}


def statement_for(
    name: ReportName, who: Principal, filters: OutcomeFilters | SlaFilters, *, now: datetime
) -> tuple[Select[Any], Shape]:
    """The report's statement for `who` and how its rows are ordered."""
    if isinstance(filters, SlaFilters):
        return queries.sla(filters, now=now), SHAPES[ReportName.SLA]
    outcome_reports = {
        ReportName.PASS_FAIL: queries.pass_fail,
        ReportName.FIRST_TIME_PASS: queries.first_time_pass,
        ReportName.OUTCOME_RELEASES: queries.outcome_releases,
        ReportName.RESULT_TRACKING: queries.result_tracking,
    }
    shape = SHAPES[name]
    if name == ReportName.RESULT_TRACKING:
        shape = tracking_shape(filters.date_field == TrackingDate.RELEASED)
    return outcome_reports[name](who, filters), shape


def tracking_shape(by_release: bool) -> Shape:
    """Result tracking pages by release when `from`/`to` bound the release."""
    return _detail(ResultTrackingRow, "available_date" if by_release else "submitted_at")


def _decode(shape: Shape, cursor: str) -> tuple[date | datetime, str]:
    return decode_key(cursor, shape.first_key, what="the cursor for this report")


def ordered(statement: Select[Any], shape: Shape, cursor: str | None = None) -> Select[Any]:
    """The report's rows newest first, after `cursor` when given."""
    report = statement.subquery("report")
    first, second = (report.c[key] for key in shape.keys)
    outer = report.select()
    if cursor is not None:
        outer = outer.where(tuple_(first, second) < tuple_(*_decode(shape, cursor)))
    return outer.order_by(first.desc(), second.desc())


def fetch_page(
    session: Session, statement: Select[Any], shape: Shape, *, limit: int, cursor: str | None
) -> tuple[Sequence[RowMapping], str | None]:
    """Up to `limit` rows after `cursor`, and the cursor of the next page (None on the last).

    Planned afresh each time: a cached generic plan cannot see which window or filter it
    serves and was measured 2-4x slower on the aggregates (bench/reports.py).
    """
    session.execute(CUSTOM_PLANS)
    rows = session.execute(ordered(statement, shape, cursor).limit(limit + 1)).mappings().all()
    last = rows[limit - 1] if len(rows) > limit else None
    return rows[:limit], encode_cursor(*(last[key] for key in shape.keys)) if last else None


def page(
    session: Session,
    name: ReportName,
    statement: Select[Any],
    shape: Shape,
    *,
    limit: int,
    cursor: str | None,
) -> ReportPage[BaseModel]:
    """One page of the report as its row models, typed by the report's row (so the page
    serialises by itself: the route answers `model_dump_json()` with no second pass)."""
    rows, next_cursor = fetch_page(session, statement, shape, limit=limit, cursor=cursor)
    typed: type[ReportPage[Any]] = ReportPage[shape.row]  # type: ignore[name-defined]
    # One validation of the whole page (rows and derived fields) instead of one per row.
    return typed.model_validate(
        {
            "report": name.value,
            "items": [shape.derive(row) for row in rows],
            "next_cursor": next_cursor,
        }
    )


def stream_csv(engine: Engine, statement: Select[Any], shape: Shape) -> Iterator[str]:
    """The whole report as CSV: a header row, then rows read through a server-side cursor
    and written in chunks, so memory stays flat however long the report.

    A report whose rows need no derived fields is written from the rows' tuples as they
    come (no mapping or model per row, `csv_row` per row, `writerows` per chunk).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    fields = list(shape.row.model_fields)
    writer.writerow(fields)
    with engine.connect() as connection:
        connection.execute(CUSTOM_PLANS)
        connection.execute(WHOLE_CURSOR)
        result = connection.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
            ordered(statement, shape)
        )
        if shape.derive is dict:
            columns = list(result.keys())
            if columns == fields:
                chunks: Iterator[list[list[Any]]] = (
                    [csv_row(row) for row in rows] for rows in result.partitions(CHUNK_ROWS)
                )
            else:
                pick = itemgetter(*(columns.index(name) for name in fields))
                chunks = (
                    [csv_row(pick(row)) for row in rows] for rows in result.partitions(CHUNK_ROWS)
                )
        else:
            chunks = (
                [csv_row(_derived(shape, row, fields)) for row in rows]
                for rows in result.mappings().partitions(CHUNK_ROWS)
            )
        for chunk in chunks:
            writer.writerows(chunk)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _derived(shape: Shape, row: RowMapping, fields: list[str]) -> list[Any]:
    values = shape.derive(row)
    return [values[name] for name in fields]
