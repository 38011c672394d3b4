"""The CSV that PostgreSQL formats (`COPY`, decision 0098) is byte for byte the CSV that
`csv_row` and `csv.writer` write, for every detail report and filter, on nasty values:
delimiters, quotes, line breaks, formula triggers behind blank space, unicode, empty text
and nulls, instants with and without microseconds in zones with odd offsets."""

import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import DateTime, Engine, Float, create_engine, literal, null, select, text

from api.services import report_queries as queries
from api.services.report import copy_csv, statement_for, stream_csv, write_csv
from core.db import make_engine, normalize_url
from domain.access import Principal, Role
from domain.outcome import OutcomeKind, ReleaseMethod
from domain.report import ReportName, TrackingDate, csv_cell
from models.report import OutcomeFilters, SlaFilters

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from report_seed import conninfo, load

ADMIN = Principal(sub="admin", roles=frozenset({Role.ADMIN}))
NASTY = [
    "a,b",
    'say "hi"',
    "two\nlines",
    "cr\rhere",
    "crlf\r\nend",
    "=1+1",
    "+44",
    "-3",
    "@SUM(A1)",
    "|pipe",
    "\tTab",
    " \t=x",
    "  =spaced",
    "\u00a0=cmd",
    "\u3000-x",
    "\x0b+x",
    "\u2028@",
    " x",
    "   ",
    "",
    "ünïcødé — ☃ 𝄞 日本",
    "'already",
    '",\n"',
    'E"\n',
    ',"E"',
    "\\.",
    "NULL",
    "a\x01b",
]
# Server zones a session may start in: UTC, a half-hour offset west of UTC, and two with
# offsets in seconds before 1916/1937 (Dublin and Amsterdam mean time). The export reads
# its instants in UTC in every one of them.


def pick(i: str) -> str:
    """SQL: the nasty value the row numbered `i` gets."""
    return f"(%(v)s::text[])[1 + ({i}) %% %(n)s]"


ZONES = ["UTC", "America/St_Johns", "Europe/Dublin", "Europe/Amsterdam"]


@pytest.fixture(scope="module")
def nasty_url(database_url: str) -> str:
    """The reports bench's data set, small, with nasty values written over part of it."""
    from tests.support.infra import truncate_all

    engine = make_engine(database_url, pool_size=1)
    truncate_all(engine)
    engine.dispose()
    load(database_url, 400)
    n = len(NASTY)
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute(
            "WITH c AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM candidates)"
            " UPDATE candidates SET"
            "  name = " + pick("c.i") + ","
            "  uln = CASE WHEN c.i %% 3 = 0 THEN NULL ELSE " + pick("(c.i + 1)") + " END,"
            "  standard = " + pick("(c.i + 2)") + ","
            "  cohort = CASE WHEN c.i %% 4 = 0 THEN NULL ELSE " + pick("(c.i + 3)") + " END"
            " FROM c WHERE candidates.id = c.id AND c.i %% 5 <> 0",
            {"v": NASTY, "n": n},
        )
        conn.execute(
            "WITH o AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM outcomes)"
            " UPDATE outcomes SET"
            "  component = CASE WHEN o.i %% 2 = 0 THEN NULL ELSE " + pick("o.i") + " END,"
            # whole seconds, and 1900 (offsets in seconds) with and without microseconds
            "  submitted_at = CASE WHEN o.i %% 3 = 0 THEN date_trunc('second', submitted_at)"
            "    ELSE submitted_at END,"
            "  completed_at = CASE o.i %% 7 WHEN 0 THEN NULL"
            "    WHEN 1 THEN timestamptz '1900-06-01 12:00:00+00' + o.i * interval '1 ms'"
            "    WHEN 2 THEN timestamptz '1900-01-01 00:00:00+00' ELSE completed_at END"
            " FROM o WHERE outcomes.id = o.id",
            {"v": NASTY, "n": n},
        )
        conn.execute(
            "WITH s AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM sla_instances)"
            " UPDATE sla_instances SET subject = " + pick("s.i") + " || s.i"
            " FROM s WHERE sla_instances.id = s.id AND s.i %% 4 = 0",
            {"v": NASTY, "n": n},
        )
        conn.execute(  # whole seconds for some timers: elapsed and paused are whole numbers
            "UPDATE sla_log SET at = date_trunc('second', at)"
            " WHERE instance_id IN (SELECT id FROM sla_instances WHERE stopped_at IS NOT NULL"
            " ORDER BY id LIMIT 500)"
        )
        conn.execute("UPDATE sla_definitions SET name = %s", ['=HYPERLINK("x"), "a"\nb'])
        conn.execute("ANALYZE")
    return database_url


@pytest.fixture(scope="module", params=ZONES)
def zoned(request: pytest.FixtureRequest, nasty_url: str) -> Iterator[Engine]:
    """An engine whose sessions read instants in the zone (the driver reads them so too)."""
    options = {"options": f"-c timezone={request.param}"}
    engine = create_engine(normalize_url(nasty_url), connect_args=options, pool_size=2)
    yield engine
    engine.dispose()


def provider_of(engine: Engine) -> Principal:
    with engine.connect() as connection:
        org = connection.exec_driver_sql(
            "SELECT provider_id FROM candidates GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).scalar_one()
    return Principal(sub="provider", roles=frozenset({Role.PROVIDER}), org=org)


FROM, TO = datetime(2025, 6, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
OUTCOME_CASES = [
    (ReportName.OUTCOME_RELEASES, OutcomeFilters()),
    (
        ReportName.OUTCOME_RELEASES,
        OutcomeFilters(
            kind=OutcomeKind.RESULT, method=ReleaseMethod.MANUAL, from_at=FROM, to_at=TO
        ),
    ),
    (ReportName.OUTCOME_RELEASES, OutcomeFilters(kind=OutcomeKind.CERTIFICATION)),
    (ReportName.RESULT_TRACKING, OutcomeFilters()),
    (
        ReportName.RESULT_TRACKING,
        OutcomeFilters(date_field=TrackingDate.RELEASED, from_at=FROM, to_at=TO),
    ),
    (ReportName.RESULT_TRACKING, OutcomeFilters(kind=OutcomeKind.CERTIFICATION)),
    (ReportName.RESULT_TRACKING, OutcomeFilters(standard=NASTY[1])),
]


def both(
    engine: Engine, name: ReportName, who: Principal, filters: OutcomeFilters | SlaFilters
) -> tuple[str, str]:
    statement, shape = statement_for(name, who, filters, now=datetime.now(UTC))
    assert shape.derive is dict  # a detail report: COPY formats it
    return "".join(copy_csv(engine, statement, shape)), "".join(write_csv(engine, statement, shape))


@pytest.mark.parametrize(("name", "filters"), OUTCOME_CASES)
@pytest.mark.parametrize("external", [False, True])
def test_copy_writes_the_outcome_reports_byte_for_byte(
    zoned: Engine, name: ReportName, filters: OutcomeFilters, external: bool
) -> None:
    who = provider_of(zoned) if external else ADMIN
    copied, written = both(zoned, name, who, filters)
    assert copied.encode() == written.encode()
    narrow = filters.standard or (external and filters.method)
    assert written.count("\r\n") > 1 or narrow  # the report has rows to compare


def test_the_nasty_values_reach_the_export(zoned: Engine) -> None:
    copied, written = both(zoned, ReportName.RESULT_TRACKING, ADMIN, OutcomeFilters())
    assert copied == written
    for cell in ("'=1+1", "'\u00a0=cmd", '"say ""hi"""', '"two\nlines"', "ünïcødé", ".183000+"):
        assert cell in copied
    assert ",," in copied  # empty text and nulls are empty cells
    assert ',"E"\n' not in copied  # the rows' end marker is gone
    # in UTC whatever the session's zone (PostgreSQL's zone history and Python's differ)
    offsets = set(re.findall(r"T\d\d:\d\d:\d\d(?:\.\d{6})?([+-]\d\d:\d\d(?::\d\d)?)", copied))
    assert offsets == {"+00:00"}
    assert re.search(r"T\d\d:\d\d:\d\d\+", copied)  # whole seconds: no microseconds


@pytest.mark.parametrize(
    "filters",
    [SlaFilters(), SlaFilters(breached=True), SlaFilters(breached=False, from_at=FROM, to_at=TO)],
)
def test_copy_writes_the_sla_report_byte_for_byte(zoned: Engine, filters: SlaFilters) -> None:
    copied, written = both(zoned, ReportName.SLA, ADMIN, filters)
    assert copied.encode() == written.encode()
    assert "'=HYPERLINK" in copied


@pytest.mark.parametrize("name", [ReportName.PASS_FAIL, ReportName.FIRST_TIME_PASS])
def test_the_aggregates_stay_written_in_python(nasty_url: str, name: ReportName) -> None:
    engine = make_engine(nasty_url, pool_size=1)
    statement, shape = statement_for(name, ADMIN, OutcomeFilters(), now=datetime.now(UTC))
    try:
        streamed = "".join(stream_csv(engine, statement, shape))
        assert streamed == "".join(write_csv(engine, statement, shape))
        assert streamed.count("\r\n") > 10
    finally:
        engine.dispose()


FLOATS = [0.0, -0.0, 3.0, -7.0, 0.1 + 0.2, 1e-05, 1.5e-07, 0.0001, 123456789012.25, 1e14]
FLOATS += [9.4e12 + 0.5, 5678.123455762863, float("nan"), float("inf"), float("-inf")]
INSTANTS = [
    datetime(2026, 12, 2, 15, 1, 11, tzinfo=UTC),
    datetime(2026, 12, 2, 15, 1, 11, 5, tzinfo=UTC),
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ZONES)
def test_each_cell_is_the_text_csv_cell_writes(nasty_url: str, zone: str) -> None:
    options = {"options": f"-c timezone={zone}"}
    engine = create_engine(normalize_url(nasty_url), connect_args=options, pool_size=1)
    cells = [
        *(queries.csv_text(literal(v)) for v in NASTY),
        *(queries.csv_float(literal(v, Float)) for v in FLOATS),
        *(queries.csv_instant(literal(v, DateTime(timezone=True))) for v in INSTANTS),
        queries.csv_date(literal(date(2026, 1, 9))),
        queries.csv_bool(literal(True)),
        queries.csv_bool(literal(False)),
        queries.csv_bool(null()),
    ]
    try:
        with engine.connect() as connection:
            connection.execute(text("SET TimeZone = 'UTC'"))
            got = list(connection.execute(select(*cells)).one())
    finally:
        engine.dispose()
    values = [*NASTY, *FLOATS, *INSTANTS, date(2026, 1, 9), True, False, None]
    assert got == [csv_cell(value) or None for value in values]
