"""Check-list sync wall time through the workflow, against one set-based UPDATE (the floor).

Starts an embedded PostgreSQL and a Temporal dev server (both real), seeds N
assessments (half eligible: NOT_STARTED and PRE_ASSESSMENT; half IN_PROGRESS and
COMPLETED), each with a preliminary section and two main sections, and publishes
a v2 template that changes both main sections. In the same run it times:

- the floor: one `UPDATE … FROM` writing v2's lists into every eligible main section
  (no savepoints, no audit rows, no events, no change log), then puts v1 back;
- the sync: ChecklistSyncWorkflow through an in-process worker, pages of 500, each page
  planned in Python and written set-based (decision 0024). It also counts the SQL
  statements the sync sent and the audit, event and change rows it wrote.

    .venv/bin/python bench/checklist_sync.py [N]     (default 20000; `make bench-sync`)
"""

import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.services.checklist_sync import start
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.temporal import SEARCH_ATTRIBUTES
from worker import build_worker
from workflows.payloads.checklist_sync import ChecklistSyncProgress, StartChecklistSyncInput

BIN = Path(sys.executable).parent
ELIGIBLE = "('NOT_STARTED', 'PRE_ASSESSMENT')"


def _section(code: str, checks: list[str], reasons: list[str], prelim: bool = False) -> Any:
    return {
        "code": code,
        "title": code.title(),
        "preliminary": prelim,
        "elements": [{"code": f"{code}_q", "title": "Q", "type": "text"}],
        "checks": checks,
        "failure_reasons": [
            {"code": r, "label": r, "kind": "further_information"} for r in reasons
        ],
    }


STAGES = [
    {"code": "pre", "name": "Pre", "levels": 1, "pre_assessment": True},
    {"code": "main", "name": "Main", "levels": 1},
]
V1 = [
    _section("prelim", ["Identity seen"], ["no_id"], prelim=True),
    _section("personal", ["Name matches"], ["id_mismatch", "fraud"]),
    _section("qualifications", ["Degree level"], ["no_degree"]),
]
V2 = [
    V1[0],
    _section("personal", ["Name matches", "Address matches"], ["id_mismatch", "fraud"]),
    _section("qualifications", ["Degree level"], ["no_degree", "unverified"]),
]


def seed(engine: Engine, count: int) -> None:
    """`count` assessments in four statuses (a quarter each), v1 and v2 of template `t`."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for version, sections in ((1, V1), (2, V2)):
            conn.execute(
                text(
                    "INSERT INTO templates VALUES ('t', :v, 'T', CAST(:d AS jsonb), :at, 'bench')"
                ),
                {"v": version, "d": json.dumps({"sections": sections, "stages": STAGES}), "at": at},
            )
        conn.execute(
            text(
                "INSERT INTO applications (id, template_code, template_version, applicant_id,"
                " status, level, submission_count, loq_round, revision, created_at, updated_at)"
                " SELECT 'a' || lpad(n::text, 6, '0'), 't', 1, 'bench', 'SUBMITTED', 1, 1, 0, 0,"
                " :at, :at FROM generate_series(1, :n) n"
            ),
            {"n": count, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO assessments SELECT 'asm-' || id, id, 't', 1,"
                " (ARRAY['NOT_STARTED','PRE_ASSESSMENT','IN_PROGRESS','COMPLETED'])"
                "[1 + (substr(id, 2)::int % 4)], :at, :at FROM applications"
            ),
            {"at": at},
        )
        reset(conn, every=True)


def reset(conn: Any, *, every: bool = False) -> None:
    """Put v1's sections back (all assessments when `every`, else the eligible ones)."""
    if not every:
        conn.execute(text("DELETE FROM assessment_sections WHERE NOT preliminary"))
    conn.execute(
        text(
            "INSERT INTO assessment_sections (id, assessment_id, code, title, position,"
            " preliminary, checks, failure_reasons, selected_failure_reasons)"
            " SELECT a.id || '-' || s.code, a.id, s.code, s.title, s.position, s.preliminary,"
            " s.checks, s.failure_reasons, '[]'::jsonb"
            " FROM assessments a CROSS JOIN jsonb_to_recordset(CAST(:v1 AS jsonb))"
            " AS s(code text, title text, position int, preliminary bool, checks jsonb,"
            " failure_reasons jsonb)" + ("" if every else " WHERE NOT s.preliminary")
        ),
        {"v1": json.dumps([{**s, "position": i} for i, s in enumerate(V1)])},
    )


def floor(engine: Engine) -> tuple[float, int]:
    """One set-based UPDATE doing the sync's section change; (seconds, rows)."""
    began = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "UPDATE assessment_sections s SET checks = t.checks,"
                " failure_reasons = t.failure_reasons"
                " FROM assessments a, jsonb_to_recordset(CAST(:v2 AS jsonb))"
                " AS t(code text, preliminary bool, checks jsonb, failure_reasons jsonb)"
                f" WHERE a.id = s.assessment_id AND a.status IN {ELIGIBLE}"
                " AND NOT s.preliminary AND NOT t.preliminary AND t.code = s.code"
                " AND (s.checks, s.failure_reasons) IS DISTINCT FROM (t.checks, t.failure_reasons)"
            ),
            {"v2": json.dumps(V2)},
        ).rowcount
    seconds = time.perf_counter() - began
    with engine.begin() as conn:
        reset(conn)
    return seconds, rows


# The fair floor: every row the sync writes, in one statement of data-modifying CTEs.
FAIR_FLOOR = f"""
WITH t AS (
    SELECT * FROM jsonb_to_recordset(CAST(:v2 AS jsonb))
        AS t(code text, position int, preliminary bool, checks jsonb, failure_reasons jsonb)
), plan AS MATERIALIZED (
    SELECT s.id AS section_id, a.id AS assessment_id, a.application_id, s.code, t.position,
        jsonb_build_object('checks', s.checks, 'failure_reasons', s.failure_reasons) AS before,
        jsonb_build_object('checks', t.checks, 'failure_reasons', t.failure_reasons) AS after,
        t.checks, t.failure_reasons
    FROM assessments a
    JOIN assessment_sections s ON s.assessment_id = a.id AND NOT s.preliminary
    JOIN t ON t.code = s.code AND NOT t.preliminary
    WHERE a.status IN {ELIGIBLE}
      AND (s.checks, s.failure_reasons) IS DISTINCT FROM (t.checks, t.failure_reasons)
), changes AS (
    INSERT INTO checklist_sync_changes
        (sync_id, application_id, assessment_id, section, kind, before, after)
    SELECT :sync, application_id, assessment_id, code, 'replaced', before, after
    FROM plan ORDER BY assessment_id, position
), sections AS (
    UPDATE assessment_sections s SET checks = plan.checks,
        failure_reasons = plan.failure_reasons, retired_at = NULL
    FROM plan WHERE s.id = plan.section_id
), per AS MATERIALIZED (
    SELECT assessment_id, application_id,
        jsonb_agg(jsonb_build_object('section', code, 'kind', 'replaced',
            'before', before, 'after', after) ORDER BY position) AS detail_sections,
        jsonb_agg(jsonb_build_object('section', code, 'kind', 'replaced')
            ORDER BY position) AS event_sections
    FROM plan GROUP BY assessment_id, application_id
), stamps AS (
    UPDATE assessments a SET updated_at = :at FROM per WHERE a.id = per.assessment_id
), audit AS (
    INSERT INTO audit_log (subject_kind, subject_id, at, actor, action, detail, dedupe_key)
    SELECT 'application', application_id, :at, 'bench', 'checklist_synced',
        jsonb_build_object('sync_id', :sync, 'template_version', 2,
            'sections', detail_sections),
        'checklist-sync:' || :sync || ':' || assessment_id
    FROM per ORDER BY assessment_id
    ON CONFLICT (dedupe_key) DO NOTHING
), events AS (
    INSERT INTO outbox_events (type, subject, occurred_at, data, dedupe_key)
    SELECT 'assessment.checklist_synced', application_id, :at,
        jsonb_build_object('application_id', application_id, 'assessment_id', assessment_id,
            'sync_id', :sync, 'template_code', 't', 'template_version', 2,
            'sections', event_sections),
        'checklist-sync:' || :sync || ':' || assessment_id
    FROM per ORDER BY assessment_id
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT (SELECT count(*) FROM plan), (SELECT count(*) FROM per)
"""


def fair_floor(engine: Engine) -> tuple[float, int, int]:
    """The sync's rows (change rows, sections, `updated_at`, audit rows, events) written
    set-based in one transaction, no Temporal; (seconds, sections, assessments).

    Its rows are then taken out again and v1 put back, so the sync starts from the same state.
    """
    sync, at = "fair-floor", datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO checklist_syncs (id, dry_run, status, actor, template_versions,"
                " total, found, synced, unchanged, skipped, failed, pages, started_at,"
                " updated_at) VALUES (:sync, false, 'COMPLETED', 'bench', '{}', 0, 0, 0, 0,"
                " 0, 0, 0, :at, :at)"
            ),
            {"sync": sync, "at": at},
        )
    v2 = json.dumps([{**s, "position": i} for i, s in enumerate(V2)])
    began = time.perf_counter()
    with engine.begin() as conn:
        sections, assessments = conn.execute(
            text(FAIR_FLOOR), {"v2": v2, "sync": sync, "at": at}
        ).one()
    seconds = time.perf_counter() - began
    key = f"checklist-sync:{sync}:%"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE dedupe_key LIKE :k"), {"k": key})
        conn.execute(text("DELETE FROM outbox_events WHERE dedupe_key LIKE :k"), {"k": key})
        conn.execute(text("DELETE FROM checklist_sync_changes WHERE sync_id = :s"), {"s": sync})
        conn.execute(text("DELETE FROM checklist_syncs WHERE id = :s"), {"s": sync})
        reset(conn)
    return seconds, sections, assessments


async def through_workflow(engine: Engine) -> tuple[float, int, ChecklistSyncProgress]:
    """The sync as operators run it: one workflow, one activity per page of 500.

    Returns (seconds, SQL statements the worker sent meanwhile, the result).
    """
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    async with env, build_worker(env.client, engine, task_queue="bench", threads=4):
        event.listen(engine, "before_cursor_execute", count)
        try:
            began = time.perf_counter()
            handle = await start(
                env.client,
                StartChecklistSyncInput(sync_id="bench", actor="bench"),
                task_queue="bench",
            )
            result = await handle.result()
            return time.perf_counter() - began, statements[0], result
        finally:
            event.remove(engine, "before_cursor_execute", count)


def written(engine: Engine) -> tuple[int, int, int]:
    """(audit rows, outbox events, change rows) the sync wrote."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM audit_log WHERE action = 'checklist_synced'),"
                " (SELECT count(*) FROM outbox_events WHERE type = 'assessment.checklist_synced'),"
                " (SELECT count(*) FROM checklist_sync_changes WHERE sync_id = 'bench')"
            )
        ).one()
        return row[0], row[1], row[2]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    pgdata = Path(tempfile.mkdtemp(prefix="casework-bench-")) / "pg"
    admin = start_embedded(pgdata)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin, name)
    upgrade(url)
    engine = make_engine(url, pool_size=8)
    try:
        seed(engine, count)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        floor_s, rows = floor(engine)
        fair_s, fair_rows, fair_assessments = fair_floor(engine)
        sync_s, statements, result = asyncio.run(through_workflow(engine))
        audits, events, changes = written(engine)
        print(f"checklist sync: {count} assessments, {result.found} eligible, pages of 500")
        print(f"bare set-based UPDATE      {floor_s:8.2f} s   {rows} sections")
        print(
            f"fair floor (same rows)     {fair_s:8.2f} s   {fair_rows} sections,"
            f" {fair_assessments} audit rows, events and stamps, {fair_rows} change rows"
        )
        print(
            f"ChecklistSyncWorkflow      {sync_s:8.2f} s   synced {result.synced}, "
            f"unchanged {result.unchanged}, skipped {result.skipped}, failed {result.failed}"
        )
        print(
            f"  wrote {audits} audit rows, {events} events, {changes} change rows;"
            f" {statements} SQL statements over {result.pages} pages"
        )
        print(f"ratio (sync / fair floor): {sync_s / fair_s:.2f}x   (target <= 3x)")
        print(f"ratio (sync / bare UPDATE): {sync_s / floor_s:.1f}x")
    finally:
        engine.dispose()
        drop_database(admin, name)
        stop_embedded(pgdata)


if __name__ == "__main__":
    main()
