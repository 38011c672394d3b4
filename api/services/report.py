"""Running a report: a JSON page (keyset over the report's own order) or the whole report
streamed as CSV, both from the same statement."""

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, get_args

import psycopg
from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Dialect,
    Engine,
    RowMapping,
    Select,
    literal_column,
    text,
    tuple_,
)
from sqlalchemy.sql.compiler import SQLCompiler
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
# COPY sends its bytes in the client encoding: UTF-8, as the HTTP answer and the CLI write.
UTF8 = text("SET LOCAL client_encoding = 'UTF8'")
# An export reads its instants in UTC, whatever the server's zone (`+00:00`, decision 0098):
# PostgreSQL's zone data and Python's can disagree on a zone's history.
IN_UTC = text("SET LOCAL TimeZone = 'UTC'")


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
    """The whole report as CSV (a header row, then the rows in the report's order), in
    chunks, so memory stays flat however long the report (decision 0098).

    PostgreSQL formats a report whose rows need no derived fields (the detail reports):
    `COPY` of the ordered statement with each cell built in SQL as `csv_row` would write
    it. The aggregates (derived rates) are written by `write_csv`.
    """
    if shape.derive is dict:
        return copy_csv(engine, statement, shape)
    return write_csv(engine, statement, shape)


def write_csv(engine: Engine, statement: Select[Any], shape: Shape) -> Iterator[str]:
    """The report as CSV written in Python: rows read through a server-side cursor, each
    through `csv_row` and `csv.writer` (the reference the `COPY` path is tested against).

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
        connection.execute(IN_UTC)
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


# Each row COPY writes ends with this constant cell, always quoted, then its newline: no
# other place in the output can hold these bytes (inside a quoted cell a quote is doubled,
# so a quote before a newline there follows another quote). One `replace` per chunk turns
# it into the `\r\n` that `csv.writer` ends a row with (COPY ends one with `\n`).
_ROW_END = "csv_row_end"
_ROW_END_BYTES = b',"E"\n'


def copy_csv(engine: Engine, statement: Select[Any], shape: Shape) -> Iterator[str]:
    """The report as CSV formatted by PostgreSQL: `COPY (the ordered statement, its cells
    built in SQL) TO STDOUT (FORMAT csv)`, read as bytes, `CHUNK_ROWS` rows per chunk."""
    fields = shape.row.model_fields
    rows = ordered(statement, shape)
    columns = rows.selected_columns
    cells = [_cell(field.annotation)(columns[name]).label(name) for name, field in fields.items()]
    query = rows.with_only_columns(*cells, literal_column("'E'").label(_ROW_END))
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    copy_sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv, FORCE_QUOTE ({_ROW_END}))"
    params = _bound(compiled, engine.dialect)
    yield _header(list(fields))
    with engine.connect() as connection:
        connection.execute(UTF8)
        connection.execute(IN_UTC)
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.cursor() as cursor, cursor.copy(copy_sql, params) as copy:
            chunk: list[Any] = []
            for row in copy:
                chunk.append(row)
                if len(chunk) == CHUNK_ROWS:
                    yield b"".join(chunk).replace(_ROW_END_BYTES, b"\r\n").decode()
                    chunk.clear()
            yield b"".join(chunk).replace(_ROW_END_BYTES, b"\r\n").decode()


def _header(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(fields)
    return buffer.getvalue()


def _cell(annotation: Any) -> Callable[[Any], ColumnElement[Any]]:
    """The SQL of a CSV cell for a row field of this type (a union with None is the type;
    any other type is written as text)."""
    kinds = {arg for arg in get_args(annotation) or (annotation,) if arg is not type(None)}
    kind = kinds.pop() if len(kinds) == 1 else str
    if kind is bool:
        return queries.csv_bool
    if kind is int:
        return queries.csv_int
    if kind is float:
        return queries.csv_float
    if kind is datetime:
        return queries.csv_instant
    if kind is date:
        return queries.csv_date
    return queries.csv_text


def _bound(compiled: SQLCompiler, dialect: Dialect) -> dict[str, Any]:
    """The statement's parameters as the driver is given them (each through its type's bind
    processor: an enum as its value), for psycopg to merge into the COPY client-side."""
    params = dict(compiled.construct_params())
    for name, value in params.items():
        bind = compiled.binds.get(name)
        if bind is None:  # one value of an expanded `IN` list
            bind = compiled.binds.get(name.rpartition("_")[0])
        process = None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            params[name] = process(value)
    return params
