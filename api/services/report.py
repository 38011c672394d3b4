"""Running a report: a JSON page (keyset over the report's own order) or the whole report
streamed as CSV, both from the same statement."""

import base64
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, RowMapping, Select, tuple_
from sqlmodel import Session

from domain.errors import Invalid, field_error
from domain.report import ReportName, csv_cell, rate
from models.report import (
    FirstTimePassRow,
    OutcomeReleaseRow,
    PassFailRow,
    ReportPage,
    ResultTrackingRow,
    SlaReportRow,
)

# Rows fetched from the server-side cursor at a time, and rows per streamed chunk.
STREAM_BATCH = 2000
CHUNK_ROWS = 500


def _pass_fail_row(row: RowMapping) -> PassFailRow:
    total = row["passed"] + row["failed"]
    return PassFailRow(**row, total=total, pass_rate=rate(row["passed"], total))


def _first_time_row(row: RowMapping) -> FirstTimePassRow:
    return FirstTimePassRow(
        **row, first_time_pass_rate=rate(row["first_time_passes"], row["first_attempts"])
    )


@dataclass(frozen=True)
class Shape:
    """How a report's rows are ordered (newest first) and made into its row model."""

    row: type[BaseModel]
    keys: tuple[str, str]
    build: Callable[[RowMapping], BaseModel]
    first_key: Callable[[str], date | datetime]


def _detail(row: type[BaseModel], at: str) -> Shape:
    return Shape(row, (at, "id"), row.model_validate, datetime.fromisoformat)


SHAPES: dict[ReportName, Shape] = {
    ReportName.PASS_FAIL: Shape(PassFailRow, ("date", "kind"), _pass_fail_row, date.fromisoformat),
    ReportName.FIRST_TIME_PASS: Shape(
        FirstTimePassRow, ("date", "kind"), _first_time_row, date.fromisoformat
    ),
    ReportName.OUTCOME_RELEASES: _detail(OutcomeReleaseRow, "released_at"),
    ReportName.RESULT_TRACKING: _detail(ResultTrackingRow, "submitted_at"),
    ReportName.SLA: Shape(
        SlaReportRow,
        ("started_at", "instance_id"),
        SlaReportRow.model_validate,
        datetime.fromisoformat,
    ),
}


def tracking_shape(by_release: bool) -> Shape:
    """Result tracking pages by release when `from`/`to` bound the release."""
    return _detail(ResultTrackingRow, "available_date" if by_release else "submitted_at")


def _encode(first: date | datetime, second: str) -> str:
    raw = json.dumps([first.isoformat(), second]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(shape: Shape, cursor: str) -> tuple[date | datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        first, second = json.loads(base64.urlsafe_b64decode(padded))
        return shape.first_key(first), str(second)
    except (ValueError, TypeError) as exc:
        raise Invalid(
            "the cursor is not valid for this report", errors=[field_error("cursor", str(exc))]
        ) from exc


def ordered(statement: Select[Any], shape: Shape, cursor: str | None = None) -> Select[Any]:
    """The report's rows newest first, after `cursor` when given."""
    report = statement.subquery("report")
    first, second = (report.c[key] for key in shape.keys)
    outer = report.select()
    if cursor is not None:
        outer = outer.where(tuple_(first, second) < tuple_(*_decode(shape, cursor)))
    return outer.order_by(first.desc(), second.desc())


def page(
    session: Session,
    name: ReportName,
    statement: Select[Any],
    shape: Shape,
    *,
    limit: int,
    cursor: str | None,
) -> ReportPage[BaseModel]:
    """One page of the report and the cursor of the next (None on the last)."""
    rows = session.execute(ordered(statement, shape, cursor).limit(limit + 1)).mappings().all()
    items = [shape.build(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = _encode(*(last[key] for key in shape.keys)) if last else None
    return ReportPage[BaseModel](report=name.value, items=items, next_cursor=next_cursor)


def stream_csv(engine: Engine, statement: Select[Any], shape: Shape) -> Iterator[str]:
    """The whole report as CSV: a header row, then rows read through a server-side cursor
    and written in chunks, so memory stays flat however long the report."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    fields = list(shape.row.model_fields)
    writer.writerow(fields)
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
            ordered(statement, shape)
        )
        for count, row in enumerate(result.mappings(), start=1):
            values = shape.build(row).model_dump()
            writer.writerow([csv_cell(values[field]) for field in fields])
            if count % CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
