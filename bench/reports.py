"""Reports on N results: p50/p95 through the API next to the raw SQL of the same statement.

Starts an embedded PostgreSQL (no Temporal: reports only read the database, and the app's
client is lazy, so it never dials), seeds with COPY 50 providers (half auto-releasing),
5,000 candidates, N results with their elements (most released over the last year by
every method, thousands pending release, some in QA, voids released as VOID, resits of
failed components), 2,000 certifications and about 20,000 SLA instances with their logs,
then runs VACUUM ANALYZE.

For the pending-release list (first page, and one provider's) and each report (JSON
first page over 90 days, the aggregates also over the year, and the whole CSV export of
the detail reports over 90 days) it prints in the same run:

- p50/p95 through the HTTP app in process (httpx on ASGI, a bearer token, the app's pool);
- p50/p95 of the same SQL statement on a raw psycopg connection, every row fetched, and
  the ratio of the p50s. The reports' statements are built with the service functions
  exactly as `page()` and `stream_csv()` build them; the pending list's is captured from
  a call of `pending()` (its query is built inside it). Each line says when the SQL the
  app ran differs from it. The app never reuses a prepared statement (the pool ends each
  request with a rollback, on which psycopg deallocates them), so every execution is
  planned with its values; the raw connection never prepares either;
- each statement's EXPLAIN (ANALYZE, BUFFERS) with its values: the root node, its time
  and buffers, the path of first children, and the indexes the plan reads.

Each case runs REPEATS times (a fifth of that for CSV), fewer (never under 10) when that
would take longer than 15 s.

    .venv/bin/python bench/reports.py [N] [REPEATS]   (default 100000 and 25; `make bench-reports`)
"""

import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from sqlalchemy import Engine, Select, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.app import create_app
from api.pagination import DEFAULT_LIMIT
from api.services import report_queries as queries
from api.services.outcome_release import PendingFilters, pending
from api.services.report import SHAPES, Shape, ordered, tracking_shape
from core.auth import mint_token
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.settings import Settings
from domain.access import Principal, Role
from domain.report import ReportName
from models.report import OutcomeFilters, SlaFilters
from workflows.payloads.sla import sla_workflow_id

Row = tuple[object, ...]
Sql = tuple[str, dict[str, Any]]

SECRET = "bench-secret-that-is-long-enough-for-hs256!"
WHO = Principal(sub="bench", roles=frozenset({Role.ADMIN}))
NOW = datetime.now(UTC).replace(microsecond=0)
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
CREATED = NOW - 500 * DAY

PROVIDERS, EMPLOYERS, CANDIDATES, CERTIFICATIONS = 50, 300, 5_000, 2_000
SLA_RESULTS, SLA_ELEMENTS, SLA_CANDIDATES = 14_000, 3_000, 1_000
# Timed runs per case: the repeats asked for, fewer (never under MIN_REPEATS) when they
# would take longer than CASE_BUDGET_S through the API (first-time pass over a year).
CASE_BUDGET_S, MIN_REPEATS = 15.0, 10
ACTIVE = frozenset({"IN_ASSESSMENT", "COMPLETED", "CERTIFIED"})
CANDIDATE_STATUSES = {
    "IN_ASSESSMENT": 43,
    "COMPLETED": 25,
    "CERTIFIED": 20,
    "ON_PROGRAMME": 4,
    "BACK_INTO_LEARNING": 3,
    "RETAKE_REVIEW": 2,
    "WITHDRAWN": 3,
}
STANDARDS = [f"ST{n:04d}" for n in range(100, 125)]
COHORTS = [f"2025-{m:02d}" for m in range(1, 13)]
COMPONENTS = [
    f"{base}-{k}"
    for base in ("knowledge-test", "practical", "interview", "portfolio", "project", "showcase")
    for k in range(1, 11)
]

# Tables in foreign-key order, with the columns COPY fills.
COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("id", "name", "auto_release_outcomes", "created_at", "updated_at"),
    "employers": ("id", "name", "created_at"),
    "candidates": (
        "id",
        "name",
        "uln",
        "provider_id",
        "employer_id",
        "standard",
        "cohort",
        "status",
        "gateway_approved_at",
        "created_at",
        "updated_at",
    ),
    "elements": ("id", "candidate_id", "component", "scheduled_at", "created_at"),
    "outcomes": (
        "id",
        "kind",
        "candidate_id",
        "element_id",
        "grade",
        "sampled_for_qa",
        "status",
        "amendments",
        "revision",
        "tracked",
        "submitted_by",
        "submitted_at",
        "completed_at",
        "released_at",
        "release_method",
        "scheduled_release_at",
        "schedule_owner",
        "created_at",
        "updated_at",
    ),
    "sla_instances": (
        "id",
        "definition",
        "version",
        "subject",
        "candidate_id",
        "status",
        "goal_s",
        "started_at",
        "stopped_at",
        "breached_at",
        "warned",
    ),
    "sla_log": ("instance_id", "seq", "kind", "at"),
}


@dataclass(frozen=True)
class Cand:
    """A seeded candidate, as the generator needs it."""

    id: str
    provider_id: str
    auto: bool
    status: str
    gateway_at: datetime

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Settled:
    """Where an outcome ended up: status, completion, release (or pending schedule)."""

    status: str
    sampled: bool
    completed_at: datetime | None = None
    released_at: datetime | None = None
    method: str | None = None
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class Made:
    """One seeded outcome."""

    id: str
    kind: str
    cand: Cand
    element_id: str | None
    element_at: datetime | None
    grade: str
    submitted_at: datetime
    settled: Settled

    def row(self) -> Row:
        s = self.settled
        touched = s.released_at or s.completed_at or self.submitted_at
        owner = "outcome" if s.scheduled_at else None
        return (
            *(self.id, self.kind, self.cand.id, self.element_id, self.grade, s.sampled, s.status),
            *(0, 1, s.method != "LEGACY", "assessor", self.submitted_at, s.completed_at),
            *(s.released_at, s.method, s.scheduled_at, owner, self.submitted_at, touched),
        )


@dataclass
class Seed:
    """Every row to COPY, and what the SLA generator and the cases need to know."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in COLUMNS})
    candidates: list[Cand] = field(default_factory=list)
    results: list[Made] = field(default_factory=list)
    certifications: list[Made] = field(default_factory=list)
    resits: int = 0


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_people(rng: random.Random, seed: Seed) -> None:
    """Providers (even ones auto-release), employers, candidates (mostly active)."""
    providers = [(uid(rng), i % 2 == 0) for i in range(PROVIDERS)]
    for i, (provider_id, auto) in enumerate(providers):
        seed.rows["providers"].append((provider_id, f"Provider {i:02d}", auto, CREATED, CREATED))
    employers = [uid(rng) for _ in range(EMPLOYERS)]
    seed.rows["employers"] += [(e, f"Employer {i}", CREATED) for i, e in enumerate(employers)]
    statuses = rng.choices(
        list(CANDIDATE_STATUSES), weights=list(CANDIDATE_STATUSES.values()), k=CANDIDATES
    )
    for i, status in enumerate(statuses):
        provider_id, auto = rng.choice(providers)
        cand = Cand(uid(rng), provider_id, auto, status, NOW - rng.uniform(385, 420) * DAY)
        employer = rng.choice(employers) if rng.random() < 0.9 else None
        seed.rows["candidates"].append(
            (
                *(cand.id, f"Candidate {i:05d}", str(rng.randrange(10**9, 10**10)), provider_id),
                *(employer, rng.choice(STANDARDS), rng.choice(COHORTS), status, cand.gateway_at),
                *(cand.gateway_at - 30 * DAY, cand.gateway_at),
            )
        )
        seed.candidates.append(cand)


def grade_of(rng: random.Random, fail_rate: float) -> str:
    draw = rng.random()
    if draw < 0.015:
        return "VOID"
    if draw < 0.015 + fail_rate:
        return "FAIL"
    return rng.choices(("PASS", "MERIT", "DISTINCTION"), weights=(55, 30, 15))[0]


def release(
    rng: random.Random, submitted: datetime, completed: datetime, auto: bool, sampled: bool
) -> tuple[str, datetime]:
    """The release method and instant of a completed outcome that was released."""
    if NOW - submitted > 330 * DAY and rng.random() < 0.5:
        return "LEGACY", completed + rng.uniform(0.5, 5) * DAY
    if auto:
        return "AUTOMATIC", completed
    if sampled and rng.random() < 0.5:
        return "WITH_QA", completed
    if rng.random() < 0.35:
        return "SCHEDULED", completed + rng.uniform(1, 10) * DAY
    return "MANUAL", completed + rng.uniform(0.05, 7) * DAY


def settle(rng: random.Random, grade: str, submitted: datetime, auto: bool) -> Settled:
    """Voids are released at once; recent sampled ones may sit in QA; recent ones of
    providers that do not auto-release mostly wait for release; the rest were released."""
    if grade == "VOID":
        return Settled("RELEASED", False, submitted, submitted, "VOID")
    sampled = rng.random() < 0.1
    if sampled and NOW - submitted < 21 * DAY and rng.random() < 0.6:
        return Settled("IN_QA", sampled)
    delay = rng.uniform(2, 10) * DAY if sampled else rng.uniform(0, 6) * HOUR
    completed = min(submitted + delay, NOW - MINUTE)
    recent = NOW - submitted < 60 * DAY
    if not auto and ((recent and rng.random() < 0.6) or rng.random() < 0.01):
        scheduled = NOW + rng.uniform(1, 14) * DAY if rng.random() < 0.2 else None
        return Settled("PENDING_RELEASE", sampled, completed, scheduled_at=scheduled)
    method, released = release(rng, submitted, completed, auto, sampled)
    if released >= NOW:
        return Settled("PENDING_RELEASE", sampled, completed)
    return Settled("RELEASED", sampled, completed, released, method)


def result(
    rng: random.Random, seed: Seed, cand: Cand, component: str, grade: str, at: datetime
) -> Made:
    """One result on its own element (a resit is a new sitting of the same component)."""
    element_id, scheduled = uid(rng), at - rng.uniform(0, 3) * DAY
    seed.rows["elements"].append((element_id, cand.id, component, scheduled, scheduled - 30 * DAY))
    settled = settle(rng, grade, at, cand.auto)
    return Made(uid(rng), "result", cand, element_id, scheduled, grade, at, settled)


def attempts(rng: random.Random, seed: Seed, cand: Cand, count: int) -> list[Made]:
    """`count` results of one candidate over the last ~380 days; a failed component is
    often sat again later (a resit), so first-time pass has earlier attempts to find."""
    times = sorted(NOW - rng.uniform(0.5, 380) * DAY for _ in range(count))
    fresh = rng.sample(COMPONENTS, len(COMPONENTS))
    awaiting: list[str] = []
    made: list[Made] = []
    for at in times:
        if awaiting and rng.random() < 0.6:
            component, fail_rate = awaiting.pop(0), 0.10
            seed.resits += 1
        else:
            component, fail_rate = (fresh.pop() if fresh else rng.choice(COMPONENTS)), 0.15
        grade = grade_of(rng, fail_rate)
        if grade == "FAIL":
            awaiting.append(component)
        made.append(result(rng, seed, cand, component, grade, at))
    return made


def seed_outcomes(rng: random.Random, seed: Seed, count: int) -> None:
    """`count` results spread over the candidates, then certifications of finished ones."""
    per = Counter(rng.randrange(CANDIDATES) for _ in range(count))
    last: dict[str, datetime] = {}
    for index, cand in enumerate(seed.candidates):
        made = attempts(rng, seed, cand, per[index])
        seed.results += made
        if made:
            last[cand.id] = made[-1].submitted_at
    finished = [c for c in seed.candidates if c.status in ("COMPLETED", "CERTIFIED")]
    finished = [c for c in finished if c.id in last]
    for cand in rng.sample(finished, min(CERTIFICATIONS, len(finished))):
        at = min(last[cand.id] + rng.uniform(1, 20) * DAY, NOW - HOUR)
        grade = grade_of(rng, 0.08)
        settled = settle(rng, grade, at, cand.auto)
        seed.certifications.append(
            Made(uid(rng), "certification", cand, None, None, grade, at, settled)
        )
    seed.rows["outcomes"] = [m.row() for m in seed.results + seed.certifications]


@dataclass(frozen=True)
class Timed:
    """One subject an SLA times, from `start` to `stop` (None: still running)."""

    definition: str
    subject: str
    cand: Cand
    start: datetime
    stop: datetime | None


def sla_subjects(rng: random.Random, seed: Seed) -> list[Timed]:
    """Completed results and certifications, scheduled elements, candidates in EPA."""
    completed = [m for m in seed.results if m.settled.completed_at is not None]
    picked = rng.sample(completed, min(SLA_RESULTS, len(completed)))
    certified = [m for m in seed.certifications if m.settled.completed_at is not None]
    cert_release = {m.cand.id: m.settled.released_at for m in seed.certifications}

    def done(m: Made) -> datetime:
        return m.settled.completed_at or m.submitted_at

    return [
        *(
            Timed("result_complete_to_release", m.id, m.cand, done(m), m.settled.released_at)
            for m in picked
        ),
        *(
            Timed("certification_complete_to_release", m.id, m.cand, done(m), m.settled.released_at)
            for m in certified
        ),
        *(
            Timed(
                "element_scheduled_to_outcome_release",
                m.element_id or m.id,
                m.cand,
                m.element_at or m.submitted_at,
                m.settled.released_at,
            )
            for m in rng.sample(seed.results, min(SLA_ELEMENTS, len(seed.results)))
        ),
        *(
            Timed("candidate_time_in_epa", c.id, c, c.gateway_at, cert_release.get(c.id))
            for c in rng.sample(seed.candidates, SLA_CANDIDATES)
        ),
    ]


def breach_of(
    start: datetime, end: datetime, goal: timedelta, pause: datetime | None, resume: datetime | None
) -> datetime | None:
    """When the running time reached the goal (at most one pause), if it did by `end`."""
    if pause is None or start + goal <= pause:
        at: datetime | None = start + goal
    elif resume is None:
        at = None
    else:
        at = start + goal + (resume - pause)
    return at if at is not None and at <= end else None


def seed_sla(rng: random.Random, seed: Seed, goals: dict[str, tuple[int, int]]) -> None:
    """An instance per subject with its log: START, an open PAUSE for a running one of an
    inactive candidate, a PAUSE/RESUME pair for some, STOP for stopped ones."""
    for timed in sla_subjects(rng, seed):
        version, goal_s = goals[timed.definition]
        end = timed.stop or NOW
        pause = resume = None
        if timed.stop is None and not timed.cand.active:
            pause = timed.start + (end - timed.start) * rng.uniform(0.1, 0.9)
        elif rng.random() < 0.12:
            pause = timed.start + (end - timed.start) * rng.uniform(0.1, 0.5)
            resume = pause + (end - pause) * rng.uniform(0.1, 0.9)
        breached = breach_of(timed.start, end, timedelta(seconds=goal_s), pause, resume)
        if breached:
            status = "BREACHED"
        elif timed.stop:
            status = "MET"
        else:
            status = "PAUSED" if pause and not resume else "RUNNING"
        instance_id = sla_workflow_id(timed.definition, timed.subject)
        seed.rows["sla_instances"].append(
            (
                *(instance_id, timed.definition, version, timed.subject, timed.cand.id, status),
                *(goal_s, timed.start, timed.stop, breached, "[]"),
            )
        )
        log = [("START", timed.start), ("PAUSE", pause), ("RESUME", resume), ("STOP", timed.stop)]
        entries = [(kind, at) for kind, at in log if at is not None]
        seed.rows["sla_log"] += [(instance_id, n, k, at) for n, (k, at) in enumerate(entries)]


def conninfo(url: str) -> str:
    """The libpq URL of the SQLAlchemy URL (raw psycopg connections)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(url: str, count: int) -> Seed:
    """Generate the rows, COPY them in one transaction, then VACUUM ANALYZE."""
    rng = random.Random(9)
    seed = Seed()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        goals = {
            code: (version, goal_s)
            for code, version, goal_s in conn.execute(
                "SELECT DISTINCT ON (code) code, version, goal_s FROM sla_definitions"
                " ORDER BY code, version DESC"
            )
        }
        seed_people(rng, seed)
        seed_outcomes(rng, seed, count)
        seed_sla(rng, seed, goals)
        with conn.transaction(), conn.cursor() as cursor:
            for table, columns in COLUMNS.items():
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in seed.rows[table]:
                        copy.write_row(row)
        conn.execute("VACUUM ANALYZE")
    return seed


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
    release_shape, track_shape = SHAPES[ReportName.OUTCOME_RELEASES], tracking_shape(False)
    csv = {"format": "csv"}
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
        Case(
            "outcome-releases CSV, 90 days",
            path + "outcome-releases",
            window(quarter, **csv),
            report_sql(engine, releases, release_shape, whole=True),
            few,
            csv=True,
        ),
        Case(
            "result-tracking CSV, 90 days",
            path + "result-tracking",
            window(quarter, **csv),
            report_sql(engine, tracking, track_shape, whole=True),
            few,
            csv=True,
        ),
    ]


@dataclass
class Measured:
    """What one case gave."""

    case: Case
    repeats: int = 0
    api: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    api_rows: int = 0
    sql_rows: int = 0
    same_sql: bool = False
    plan: list[str] = field(default_factory=list)


async def time_api(client: httpx.AsyncClient, engine: Engine, measured: Measured) -> None:
    """Two warm-up requests (the first records the SQL the app ran), then the timed ones:
    the case's repeats, fewer when that would take more than CASE_BUDGET_S."""
    case = measured.case

    async def get() -> httpx.Response:
        response = await client.get(case.path, params=case.params)
        if response.status_code != 200:
            raise RuntimeError(f"{case.label}: {response.status_code} {response.text[:500]}")
        return response

    with captured(engine) as seen:
        await get()
    measured.same_sql = case.sql[0] in seen
    began = time.perf_counter()
    response = await get()
    affordable = int(CASE_BUDGET_S / (time.perf_counter() - began))
    measured.repeats = max(min(MIN_REPEATS, case.repeats), min(case.repeats, affordable))
    for _ in range(measured.repeats):
        began = time.perf_counter()
        response = await get()
        measured.api.append(time.perf_counter() - began)
    if case.csv:
        measured.api_rows = response.text.count("\r\n") - 1
    else:
        measured.api_rows = len(response.json()["items"])


def time_sql(conn: psycopg.Connection[Any], measured: Measured) -> None:
    """The same statement on a raw connection, every row fetched, after two warm-ups."""
    sql, params = measured.case.sql
    with conn.cursor() as cursor:
        for _ in range(2):
            cursor.execute(sql, params).fetchall()
        for _ in range(measured.repeats):
            began = time.perf_counter()
            rows = cursor.execute(sql, params).fetchall()
            measured.sql.append(time.perf_counter() - began)
    measured.sql_rows = len(rows)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def explain(conn: psycopg.Connection[Any], measured: Measured) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) with the values bound, as the app's statements are
    planned: the root node with its time, rows and buffers; the first children; the
    indexes the plan reads."""
    sql, params = measured.case.sql
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()
    assert row is not None
    doc: dict[str, Any] = row[0][0]
    root = doc["Plan"]
    jit = doc.get("JIT", {}).get("Timing", {}).get("Total")
    chain: list[str] = []
    node: dict[str, Any] | None = root
    while node is not None and len(chain) < 7:
        chain.append(node["Node Type"])
        node = (node.get("Plans") or [None])[0]
    indexes = sorted(
        {f"{n['Index Name']} ({n['Node Type']})" for n in nodes(root) if "Index Name" in n}
    )
    measured.plan = [
        f"{root['Node Type']} (actual {root['Actual Total Time']:.1f} ms, "
        f"{root['Actual Rows']:.0f} rows, buffers hit {root.get('Shared Hit Blocks', 0)} "
        f"read {root.get('Shared Read Blocks', 0)}); planning {doc['Planning Time']:.1f} ms, "
        f"execution {doc['Execution Time']:.1f} ms" + (f", JIT {jit:.1f} ms" if jit else ""),
        "path: " + " > ".join(chain),
        "indexes: " + (", ".join(indexes) or "none (sequential scans only)"),
    ]


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ms = [s * 1000 for s in samples]
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18]


def report_line(measured: Measured) -> str:
    api50, api95 = p50_p95(measured.api)
    sql50, sql95 = p50_p95(measured.sql)
    note = "" if measured.same_sql else "  (the API ran different SQL!)"
    return (
        f"{measured.case.label:<31}{measured.repeats:>4} {api50:8.1f} {api95:8.1f}"
        f" {sql50:8.1f} {sql95:8.1f} {api50 / sql50:6.1f}x"
        f" {measured.api_rows:>6} {measured.sql_rows:>6}{note}"
    )


async def measure(engine: Engine, url: str, all_cases: list[Case]) -> list[Measured]:
    """Each case through the app, then on a raw connection, then explained."""
    settings = Settings(
        auth_secret=SECRET, database_url="unused://", temporal_address="127.0.0.1:1"
    )
    app = create_app(settings, engine=engine)  # a lazy Temporal client: never dialled here
    token = mint_token(
        secret=SECRET, sub="bench", roles=["admin"], now=datetime.now(UTC), ttl=timedelta(hours=1)
    )
    transport = httpx.ASGITransport(app=app)
    print(
        f"{'(ms)':<31}{'reps':>4} {'API p50':>8} {'API p95':>8} {'SQL p50':>8} {'SQL p95':>8}"
        f" {'ratio':>7} {'rows':>6} {'SQL':>6}"
    )
    done: list[Measured] = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport,
            base_url="http://casework.bench",
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        ) as client,
    ):
        # Never prepared, like the app's statements (see the module's docstring).
        with psycopg.connect(conninfo(url), autocommit=True, prepare_threshold=None) as conn:
            for case in all_cases:
                measured = Measured(case)
                await time_api(client, engine, measured)
                time_sql(conn, measured)
                explain(conn, measured)
                print(report_line(measured), flush=True)
                done.append(measured)
    return done


def busiest_provider(seed: Seed) -> tuple[str, int]:
    """The provider with the most outcomes in the pending list (active candidates)."""
    counts = Counter(
        m.cand.provider_id
        for m in seed.results + seed.certifications
        if m.settled.status == "PENDING_RELEASE" and m.cand.active
    )
    return counts.most_common(1)[0]


def header(url: str, seed: Seed, count: int, seed_s: float, repeats: int) -> None:
    with psycopg.connect(conninfo(url)) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    made = seed.results + seed.certifications
    statuses = Counter(m.settled.status for m in made)
    methods = Counter(m.settled.method for m in made if m.settled.method)
    listed = sum(1 for m in made if m.settled.status == "PENDING_RELEASE" and m.cand.active)
    print(f"reports bench: N={count} results (+{len(seed.certifications)} certifications)")
    print(
        f"PostgreSQL {version[0] if version else '?'}; seeded (generate + COPY + VACUUM ANALYZE)"
        f" in {seed_s:.1f} s; reps at most {repeats} (JSON), {max(3, repeats // 5)} (CSV)"
    )
    print("rows: " + ", ".join(f"{t} {len(r)}" for t, r in seed.rows.items()))
    print("outcomes by status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("released by method: " + ", ".join(f"{k} {v}" for k, v in methods.most_common()))
    print(
        f"resits (a component sat again): {seed.resits}; pending list (active candidates): {listed}"
    )


def run(engine: Engine, url: str, count: int, repeats: int) -> None:
    began = time.perf_counter()
    seed = load(url, count)
    seed_s = time.perf_counter() - began
    header(url, seed, count, seed_s, repeats)
    provider_id, listed = busiest_provider(seed)
    print(f"one provider: {provider_id} ({listed} pending); window: 90 days / 365 days to {NOW}")
    print()
    all_cases = cases(engine, provider_id, repeats)
    measured = asyncio.run(measure(engine, url, all_cases))
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) of each statement (after the timed runs):")
    for m in measured:
        print(f"{m.case.label}:")
        for line in m.plan:
            print(f"    {line}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="casework-bench-"))
    pgdata = workdir / "pg"
    try:
        admin = start_embedded(pgdata)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        url = ensure_database(admin, name)
        try:
            upgrade(url)
            engine = make_engine(url)
            try:
                run(engine, url, count, repeats)
            finally:
                engine.dispose()
        finally:
            drop_database(admin, name)
    finally:
        stop_embedded(pgdata)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
