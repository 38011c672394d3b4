"""Reports on N results: p50/p95 through the API next to the raw SQL of the same statement.

Starts an embedded PostgreSQL (no Temporal: reports only read the database, and the app's
client is lazy, so it never dials) and loads it with `bench/report_seed.py`: COPY of 50
providers, 5,000 candidates, N results with their elements, 2,000 certifications and about
20,000 SLA instances with their logs (that module says how they are spread), then VACUUM
ANALYZE.

For the pending-release list (first page, and one provider's) and each report (JSON
first page over 90 days, the aggregates also over the year, and the whole CSV export of
the detail reports over 90 days) it prints in the same run:

- p50/p95 through the HTTP app in process (httpx on ASGI, a bearer token, the app's pool);
- p50/p95 of the same SQL statement on a raw psycopg connection, every row fetched, and
  the ratio of the p95s against the target (API p95 <= 2 x SQL p95 + 5 ms); for a CSV
  export its rows/s (rows over the API p50) and how far RSS grew while it streamed,
  and `stream_csv` (COPY, decision 0098) against `write_csv` (the Python writer) in one run.
  The reports' statements are built with the service functions
  exactly as `page()` and `stream_csv()` build them; the pending list's is captured from
  a call of `pending()` (its query is built inside it). Each line says when the SQL the
  app ran differs from it (not for CSV: the export's COPY, which wraps the statement with
  its cells built in SQL, goes to the driver unseen by SQLAlchemy's events). The app
  never reuses a prepared statement (the pool ends each request with a rollback, on which
  psycopg deallocates them), so every execution is
  planned with its values; the raw connection never prepares either;
- each statement's EXPLAIN (ANALYZE, BUFFERS) with its values: the root node, its time
  and buffers, the path of first children, and the indexes the plan reads.

Each case runs REPEATS times (a fifth of that for CSV), fewer (never under 10) when that
would take longer than 15 s.

    .venv/bin/python bench/reports.py [N] [REPEATS]   (default 100000 and 25; `make bench-reports`)
"""

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repo root, for the project's packages; `report_seed` is found as a sibling (bench/ is
# sys.path[0] when run as a script; mypy knows bench/ files by their bare names).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from report_cases import Case, captured, cases
from report_seed import NOW, Seed, conninfo, load
from sqlalchemy import Engine

from api.app import create_app
from api.services.report import stream_csv, write_csv
from core.auth import mint_token
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.settings import Settings

SECRET = "bench-secret-that-is-long-enough-for-hs256!"
# Timed runs per case: the repeats asked for, fewer (never under MIN_REPEATS) when they
# would take longer than CASE_BUDGET_S through the API (first-time pass over a year).
CASE_BUDGET_S, MIN_REPEATS = 15.0, 10


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
    rss_growth: int = 0  # CSV: the most the process's RSS grew while one export streamed
    direct: list[float] = field(default_factory=list)  # CSV: stream_csv itself, no HTTP
    direct_rss: int = 0
    written: list[float] = field(default_factory=list)  # CSV: the Python writer, same rows


def rss() -> int:
    """The process's resident set size now, in bytes."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


PAGE = os.sysconf("SC_PAGE_SIZE")


async def time_api(client: httpx.AsyncClient, engine: Engine, measured: Measured) -> None:
    """Two warm-up requests (the first records the SQL the app ran), then the timed ones:
    the case's repeats, fewer when that would take more than CASE_BUDGET_S. A CSV export
    is read as a stream, chunk by chunk and dropped, noting the RSS it grew by meanwhile."""
    case = measured.case

    async def get() -> int:
        if case.csv:
            start, lines = rss(), 0
            async with client.stream("GET", case.path, params=case.params) as response:
                if response.status_code != 200:
                    raise RuntimeError(f"{case.label}: {response.status_code}")
                async for chunk in response.aiter_text():
                    lines += chunk.count("\r\n")
                    measured.rss_growth = max(measured.rss_growth, rss() - start)
            return lines - 1
        response = await client.get(case.path, params=case.params)
        if response.status_code != 200:
            raise RuntimeError(f"{case.label}: {response.status_code} {response.text[:500]}")
        return len(response.json()["items"])

    with captured(engine) as seen:
        await get()
    measured.same_sql = case.sql[0] in seen
    began = time.perf_counter()
    measured.api_rows = await get()
    affordable = int(CASE_BUDGET_S / (time.perf_counter() - began))
    measured.repeats = max(min(MIN_REPEATS, case.repeats), min(case.repeats, affordable))
    for _ in range(measured.repeats):
        began = time.perf_counter()
        measured.api_rows = await get()
        measured.api.append(time.perf_counter() - began)


def time_stream(engine: Engine, measured: Measured) -> None:
    """CSV: `stream_csv` itself (what the route and `cli.py export-report` stream), each
    chunk dropped as it comes, noting how far RSS grew meanwhile (httpx's ASGI transport
    holds a whole response in memory, so the API line's growth is the client's)."""
    assert measured.case.export is not None
    statement, shape = measured.case.export
    for _ in range(measured.repeats + 1):
        start, began = rss(), time.perf_counter()
        for _chunk in stream_csv(engine, statement, shape):
            measured.direct_rss = max(measured.direct_rss, rss() - start)
        measured.direct.append(time.perf_counter() - began)
    measured.direct = measured.direct[1:]  # the first was a warm-up
    for _ in range(measured.repeats):  # the floor of this run: the same CSV written in Python
        began = time.perf_counter()
        for _chunk in write_csv(engine, statement, shape):
            pass
        measured.written.append(time.perf_counter() - began)


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
    """The case's p50/p95 through the API and as raw SQL, the ratio of the p95s against
    the target (API p95 <= 2 x SQL p95 + 5 ms), and for CSV the rows/s and RSS growth."""
    api50, api95 = p50_p95(measured.api)
    sql50, sql95 = p50_p95(measured.sql)
    note = "" if measured.same_sql else "  (the API ran different SQL!)"
    if measured.case.csv:
        rate = measured.api_rows / (api50 / 1000)
        direct = measured.api_rows / statistics.median(measured.direct)
        written = measured.api_rows / statistics.median(measured.written)
        verdict = (
            f"HTTP {rate:>7,.0f} rows/s (RSS +{measured.rss_growth / 2**20:.1f} MiB);"
            f" stream_csv {direct:>7,.0f} rows/s (RSS +{measured.direct_rss / 2**20:.1f} MiB)"
            f" = {direct / written:.1f}x write_csv's {written:>7,.0f}"
            f" {'met' if direct >= 100_000 else 'NOT met'} (>= 100,000 rows/s)"
        )
    else:
        limit = 2 * sql95 + 5
        verdict = f"limit {limit:7.1f} {'met' if api95 <= limit else 'NOT met'}"
    return (
        f"{measured.case.label:<31}{measured.repeats:>4} {api50:8.1f} {api95:8.1f}"
        f" {sql50:8.1f} {sql95:8.1f} {api95 / sql95:6.1f}x"
        f" {measured.api_rows:>6} {measured.sql_rows:>6}  {verdict}{note}"
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
        f" {'p95 ratio':>7} {'rows':>6} {'SQL':>6}  target: API p95 <= 2 x SQL p95 + 5 ms"
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
                if case.export is not None:
                    time_stream(engine, measured)
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
