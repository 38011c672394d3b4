"""`cli.py export-report NAME --json`: every row of a report as the API's JSON rows."""

import json
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from api.services.report import page, statement_for
from api.services.report_export import OPERATOR, filters_for
from core.db import make_engine
from domain.report import ReportName

PAGE = 1000


def export_json(
    database_url: str,
    name: str,
    bounds: tuple[str | None, str | None],
    tz: str,
    pairs: list[str],
    out: str | None,
) -> int:
    """Write `{"report", "items"}` (the whole report, newest first) to `out` or standard
    output; the number of rows."""
    report = ReportName(name)
    filters = filters_for(report, bounds, tz, pairs)
    statement, shape = statement_for(report, OPERATOR, filters, now=datetime.now(UTC))
    engine = make_engine(database_url, pool_size=1)
    items: list[object] = []
    try:
        with Session(engine) as session:
            cursor: str | None = None
            while True:
                one = page(session, report, statement, shape, limit=PAGE, cursor=cursor)
                items += [item.model_dump(mode="json") for item in one.items]
                if (cursor := one.next_cursor) is None:
                    break
    finally:
        engine.dispose()
    document = json.dumps({"report": report.value, "items": items}, indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as target:
            target.write(document)
    else:
        sys.stdout.write(document)
    return len(items)
